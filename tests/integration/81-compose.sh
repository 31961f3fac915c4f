#!/bin/sh
# docker-compose (Debian's 1.29) against vmm system service: a project's network, named volume,
# containers with labels, env_file, port ranges, depends_on and a build: service are created,
# listed, run and taken down through the real client: the client service reaches the web service
# by its name on the project's network (docs/network.md), and compose exec reaches into web.
. tests/integration/lib.sh

if ! command -v docker-compose >/dev/null 2>&1; then
	skip "compose" "docker-compose is not installed (scripts/install-deps.sh installs it)"
	exit 0
fi
export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run" DOCKER_CONFIG="$T/docker-config"
if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	fail "compose: busybox image" "$(tail -2 "$T/img.log")"
	exit 0
fi
v() { "$VMM" "$@"; }
"$VMM" system service --listen "unix://$T/docker.sock" >"$T/svc.out" 2>"$T/svc.err" &
svc=$!
cleanup_hook() { kill "$svc" 2>/dev/null; }
i=0
while ! grep -q '^DOCKER_HOST=' "$T/svc.out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 "$svc" 2>/dev/null; then
		fail "compose: the service starts" "$(cat "$T/svc.err")"
		exit 0
	fi
	sleep 0.1
done
export DOCKER_HOST="unix://$T/docker.sock"

mkdir -p "$T/app"
cat >"$T/app/docker-compose.yml" <<'EOF'
version: "3.7"
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo hello-from-web > /data/index.html && exec httpd -f -p 8000 -h /data"]
    ports:
      - "8000-8001:8000-8001"
    volumes:
      - data:/data
  client:
    image: busybox
    command: ["sh", "-c", "for i in $$(seq 120); do wget -qO- http://web:8000/ && exit 0; sleep 1; done; exit 1"]
    depends_on: [web]
    env_file: client.env
  greeter:
    build: ./greeter
    depends_on: [web]
volumes:
  data:
EOF
echo "GREETING=hello from env_file" >"$T/app/client.env"
mkdir -p "$T/app/greeter"
printf 'FROM busybox\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n' >"$T/app/greeter/Dockerfile"
echo "hello from a build" >"$T/app/greeter/hello.txt"
dc() { (cd "$T/app" && timeout 120 docker-compose "$@"); }

out=$(dc up --no-start 2>&1); rc=$?
expect_eq "docker-compose up --no-start" "0" "$rc"
expect_eq "... the project's containers, as vmm sees them" "app_client_1 created app_greeter_1 created app_web_1 created" \
	"$(v ps -a --format '{{.Names}} {{.State}}' | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "... its network, labelled for compose" "app" \
	"$(v network inspect -f '{{index .Labels "com.docker.compose.project"}}' app_default 2>&1)"
expect_eq "... its named volume" "app_data" "$(v volume ls -q)"
expect_eq "... the build: service's image, built through /build" "app_greeter" "$(v images --format '{{.Repository}}' | grep greeter)"
expect_match "docker-compose ps lists the services (found by their labels)" "app_client_1 .*app_greeter_1 .*app_web_1 " \
	"$(dc ps 2>&1 | tr '\n' ' ')"
expect_eq "the compose labels are on the containers" "app web" \
	"$(docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}} {{index .Config.Labels "com.docker.compose.service"}}' app_web_1 2>&1)"
expect_match "env_file reached the container's environment" "GREETING=hello from env_file" \
	"$(docker inspect -f '{{.Config.Env}}' app_client_1 2>&1)"
expect_eq "a port range became two bindings" "8000/tcp:8000 8001/tcp:8001" \
	"$(docker inspect -f '{{range $p, $b := .HostConfig.PortBindings}}{{$p}}:{{(index $b 0).HostPort}} {{end}}' app_web_1 2>&1 | sed 's/ $//')"
expect_eq "the volume is mounted where the file says, once" "volume:/data:app_data" \
	"$(docker inspect -f '{{range .Mounts}}{{.Type}}:{{.Destination}}:{{.Name}}{{end}}' app_web_1 2>&1)"
out=$(v network rm app_default 2>&1); rc=$?
expect_match "vmm network rm of the project's network is refused while its containers exist" \
	"has active endpoints" "$out"

if have_kvm && [ -f "$KERNEL" ] && [ -f "$BUILD/guest/agent.cpio" ]; then
	out=$(timeout 600 sh -c 'cd "$1" && docker-compose up -d' sh "$T/app" 2>&1); rc=$?
	expect_eq "docker-compose up -d starts the project" "0" "$rc"
	[ "$rc" = 0 ] || echo "# $out" | tail -3
	expect_eq "the client service exits 0 once it has fetched from web" "0" \
		"$(timeout 600 docker wait app_client_1 2>&1)"
	expect_match "... by the service's name, on the project's network" "hello-from-web" "$(dc logs client 2>&1)"
	expect_match "docker-compose ps: web is up" "app_web_1 .* Up " "$(dc ps 2>&1 | tr '\n' ' ')"
	expect_eq "the build: service ran its image's CMD" "0 hello from a build" \
		"$(timeout 600 docker wait app_greeter_1 2>&1) $(dc logs --no-color greeter 2>&1 | sed -n 's/^[^|]*| //p' | tr -d '\r')"
	expect_eq "docker-compose exec: a process in the running web service" "hello-from-web" \
		"$(dc exec -T web cat /data/index.html 2>&1 | tr -d '\r')"
	expect_match "web is on the project's network, with an address of its subnet" \
		"^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$" "$(docker inspect -f '{{.NetworkSettings.Networks.app_default.IPAddress}}' app_web_1 2>&1)"
else
	skip "docker-compose up -d" "no /dev/kvm or guest payloads on this host: the containers cannot boot"
fi

out=$(dc down -v 2>&1); rc=$?
expect_eq "docker-compose down -v" "0" "$rc"
expect_eq "... leaves no container, no project network and no volume" "|bridge none|" \
	"$(v ps -aq)|$(v network ls --format '{{.Name}}' | tr '\n' ' ' | sed 's/ $//')|$(v volume ls -q)"
