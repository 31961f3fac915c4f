#!/bin/sh
# vmm system service: the Docker Engine API, driven by the real docker CLI, docker-py and curl,
# and checked against vmm's own CLI on the same store (one engine behind both doors).
. tests/integration/lib.sh

export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run" DOCKER_CONFIG="$T/docker-config"
if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	fail "api: busybox image" "$(tail -2 "$T/img.log")"
	exit 0
fi
v() { "$VMM" "$@"; }
pids=""
cleanup_hook() { for p in $pids; do kill "$p" 2>/dev/null; done; }

# serve NAME ARGS...: start a service; wait (30 s at most) for the DOCKER_HOST line it prints once listening.
serve() {
	name=$1; shift
	"$VMM" system service "$@" >"$T/$name.out" 2>"$T/$name.err" &
	last_pid=$!
	pids="$pids $last_pid"
	i=0
	while ! grep -q '^DOCKER_HOST=' "$T/$name.out" 2>/dev/null; do
		kill -0 "$last_pid" 2>/dev/null || return 1
		i=$((i + 1)); [ $i -gt 300 ] && return 1
		sleep 0.1
	done
}
# gone PID: wait (30 s at most) for a process to exit (a zombie our shell has not reaped counts).
gone() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; do
		i=$((i + 1)); [ $i -gt 300 ] && return 1; sleep 0.1
	done
}

SOCK="$T/docker.sock"
if ! serve main --listen "unix://$SOCK"; then
	fail "system service starts" "$(cat "$T/main.err")"
	exit 0
fi
main_pid=$last_pid
expect_eq "the service prints the DOCKER_HOST to use" "DOCKER_HOST=unix://$SOCK" "$(cat "$T/main.out")"
expect_eq "the socket is root's and its group's only" "660" "$(stat -c %a "$SOCK")"
export DOCKER_HOST="unix://$SOCK"
api() { curl -s --unix-socket "$SOCK" "$@" | tr -d '\n'; }

# --- the protocol, with curl
expect_eq "GET /_ping" "OK" "$(api http://d/_ping)"
expect_match "HEAD /_ping carries the API version" "^Api-Version: 1.41" "$(curl -s -I --unix-socket "$SOCK" http://d/_ping | tr -d '\r')"
expect_eq "/version: ApiVersion and MinAPIVersion" "1.41 1.24" \
	"$(api http://d/v1.41/version | jq -r '.ApiVersion + " " + .MinAPIVersion')"
out=$(api -w ' %{http_code}' http://d/v1.99/info)
expect_match "a client version above ours: 400 naming it" '"message":"client version 1.99 .* 400$' "$out"
out=$(api -w ' %{http_code}' http://d/v1.41/swarm)
expect_match "an unknown endpoint: 404 with docker's {message}" '^\{"message":"page not found.* 404$' "$out"
out=$(api -w ' %{http_code}' -X PUT http://d/v1.41/containers/create)
expect_match "a known path with the wrong method: 405" ' 405$' "$out"
out=$(api -w ' %{http_code}' -H 'Content-Type: application/json' -d '{"Image":' http://d/v1.41/containers/create)
expect_match "a truncated JSON body: 400, nothing created" '"message":".*not a JSON object.* 400$' "$out"
head -c 2000000 /dev/zero | tr '\0' ' ' >"$T/big"
out=$(api -w ' %{http_code}' -H 'Content-Type: application/json' --data-binary @"$T/big" \
	http://d/v1.41/containers/create)
expect_match "a body over 1 MiB: 413" ' 413$' "$out"
out=$(api -w ' %{http_code}' -H 'Content-Type: application/json' -d '{"Image":"busybox","Cmd":7}' \
	http://d/v1.41/containers/create)
expect_match "a wrong type in the body: 400 naming the field" '"message":"Cmd: want an array.* 400$' "$out"
expect_eq "no container came of the bad requests" "" "$(v ps -aq)"
expect_eq "filters that are not JSON: 400" "400" \
	"$(api -o /dev/null -w '%{http_code}' 'http://d/v1.41/containers/json?filters=%7Bnope')"

# --- the docker CLI
if ! command -v docker >/dev/null; then
	skip "api: the docker CLI" "no docker command (scripts/install-deps.sh installs docker.io)"
else
	expect_eq "docker version: the server's API version" "1.41" "$(docker version -f '{{.Server.APIVersion}}' 2>&1)"
	expect_eq "docker info: one image, no containers" "1 0" "$(docker info -f '{{.Images}} {{.Containers}}' 2>&1)"
	expect_eq "docker images" "busybox:latest" "$(docker images --format '{{.Repository}}:{{.Tag}}' 2>&1)"
	expect_eq "docker images --filter reference=" "busybox" "$(docker images --filter reference=busybox --format '{{.Repository}}' 2>&1)"
	expect_eq "docker images --filter reference= (no match)" "" "$(docker images -q --filter reference=alpine 2>&1)"
	expect_eq "docker image inspect: vmm's image ID" "$(v image inspect -f '{{.Id}}' busybox)" \
		"$(docker image inspect -f '{{.Id}}' busybox 2>&1)"
	expect_eq "docker history: vmm history's rows" "$(v history busybox | tr -s ' ')" \
		"$(docker history busybox 2>&1 | tr -s ' ')"
	check "docker tag busybox mybox:1" docker tag busybox mybox:1
	expect_eq "vmm sees the tag" "busybox:latest mybox:1" \
		"$(v images --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "docker rmi of one of two names untags it" "Untagged: mybox:1" "$(docker rmi mybox:1 2>&1)"
	expect_match "docker rmi of a missing image fails with the daemon's message" \
		"^Error response from daemon: .*nosuch" "$(docker rmi nosuch:1 2>&1)"

	id=$(docker create --name c1 -e A=1 -e UNSET_HERE -p 127.0.0.1:18080:80 -v /anon busybox echo hi 2>&1)
	expect_match "docker create prints the ID" "^[0-9a-f]{64}$" "$id"
	expect_eq "vmm ps sees docker's container" "c1 created" "$(v ps -a --format '{{.Names}} {{.State}}')"
	expect_eq "docker ps -a" "c1 Created" "$(docker ps -a --format '{{.Names}} {{.Status}}' 2>&1)"
	expect_eq "docker ps (running only) is empty" "" "$(docker ps -q 2>&1)"
	expect_eq "docker inspect: what vmm inspect says" \
		"$(v inspect -f '{{.State.Status}} {{.Path}} {{.Args}} {{.Config.Env}}' c1)" \
		"$(docker inspect -f '{{.State.Status}} {{.Path}} {{.Args}} {{.Config.Env}}' c1 2>&1)"
	expect_eq "docker inspect: the port binding asked for" "map[80/tcp:[{127.0.0.1 18080}]]" \
		"$(docker inspect -f '{{.HostConfig.PortBindings}}' c1 2>&1)"
	expect_match "a bare -e NAME is not filled from the service's environment" "\[PATH=[^ ]* A=1\]" \
		"$(docker inspect -f '{{.Config.Env}}' c1 2>&1)"
	expect_eq "docker inspect: the anonymous volume of -v /anon" "volume:/anon" \
		"$(docker inspect -f '{{range .Mounts}}{{.Type}}:{{.Destination}}{{end}}' c1 2>&1)"
	expect_eq "docker ps --filter status=created" "c1" "$(docker ps -a --filter status=created --format '{{.Names}}' 2>&1)"
	expect_eq "docker ps --filter status=exited" "" "$(docker ps -a --filter status=exited -q 2>&1)"
	expect_eq "docker ps --filter name=" "c1" "$(docker ps -a --filter name=c --format '{{.Names}}' 2>&1)"
	expect_eq "docker ps --filter id=PREFIX" "c1" "$(docker ps -a --filter id="$(echo "$id" | cut -c1-8)" --format '{{.Names}}' 2>&1)"
	expect_eq "docker ps --filter name= (no match)" "" "$(docker ps -aq --filter name=zz 2>&1)"
	expect_match "docker ps --filter with an unknown key: the daemon's error" "invalid filter 'bogus'" \
		"$(docker ps -a --filter bogus=1 2>&1)"
	check "docker rename c1 c2" docker rename c1 c2
	expect_eq "vmm sees the new name" "c2" "$(v ps -a --format '{{.Names}}')"

	out=$(docker create --privileged busybox true 2>&1); rc=$?
	expect_match "docker create --privileged is refused, saying why" "Privileged: not served" "$out"
	expect_eq "... with a failing exit status" "1" "$([ $rc -ne 0 ] && echo 1)"
	expect_match "docker create --network host is refused" "NetworkMode host" "$(docker create --network host busybox true 2>&1)"
	expect_match "docker create --memory 1m: the engine's own limit" "the least is 6 MiB" \
		"$(docker create -m 1m busybox true 2>&1)"
	expect_match "docker create --name with a taken name: a conflict" "already in use" \
		"$(docker create --name c2 busybox true 2>&1)"
	docker create --name lo --log-opt max-size=8k --log-opt max-file=3 busybox true >/dev/null 2>&1
	expect_eq "docker create --log-opt: HostConfig.LogConfig.Config as vmm's caps" '{"max-size":"8192","max-file":"3"}' \
		"$(v inspect -f '{{json .HostConfig.LogConfig.Config}}' lo 2>&1)"
	docker rm lo >/dev/null 2>&1
	expect_match "docker create --log-opt with an unknown option: refused, named" "unknown log option" \
		"$(docker create --log-opt mode=non-blocking busybox true 2>&1)"
	expect_eq "still one container" "1" "$(v ps -aq | wc -l)"

	if have_kvm; then
		check "docker start c2" docker start c2
		expect_eq "docker wait c2: echo's exit status" "0" "$(timeout "$BOOT_TIMEOUT" docker wait c2 2>&1)"
		expect_eq "vmm logs shows what it printed" "hi" "$(v logs c2)"
	else
		out=$(docker start c2 2>&1); rc=$?
		expect_match "docker start without KVM: the runner's one error line" "/dev/kvm" "$out"
		expect_eq "... the container stays created" "created" "$(v inspect -f '{{.State.Status}}' c2)"
	fi
	# logs: what a container wrote, in docker's json-file format (engine/logfile.h), served
	# demultiplexed by stream. Without a guest the test writes that file as a runner would.
	if ! have_kvm; then
		printf '%s\n' '{"log":"one\n","stream":"stdout","time":"2026-12-02T10:00:00.000000001Z"}' \
			'{"log":"err two\n","stream":"stderr","time":"2026-12-02T10:00:01.000000001Z"}' \
			'{"log":"three\n","stream":"stdout","time":"2026-12-02T10:00:02.000000001Z"}' \
			>"$VMM_ROOT/containers/$id/container.log"
		expect_eq "docker logs: stdout" "one three" "$(docker logs c2 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
		expect_eq "docker logs: stderr apart" "err two" "$(docker logs c2 2>&1 >/dev/null)"
		expect_eq "docker logs --tail 1 -t" "2026-12-02T10:00:02.000000001Z three" "$(docker logs --tail 1 -t c2 2>&1)"
		expect_eq "docker logs says what vmm logs says" "$(v logs c2 2>&1)" "$(docker logs c2 2>&1)"
		expect_eq "docker logs -f of a stopped container ends" "3" "$(timeout 60 docker logs -f c2 2>&1 | wc -l)"
		: >"$VMM_ROOT/containers/$id/container.log"
	fi
	expect_match "logs with neither stream: 400" '"message":"Bad parameters.* 400$' \
		"$(api -w ' %{http_code}' "http://d/v1.41/containers/c2/logs")"
	expect_match "logs of a missing container: 404" ' 404$' \
		"$(api -o /dev/null -w ' %{http_code}' "http://d/v1.41/containers/nosuch/logs?stdout=1")"

	# docker run: create, attach (hijacked, 101), wait (headers first), start
	if have_kvm; then
		expect_eq "docker run --rm busybox echo hi" "hi" "$(timeout "$BOOT_TIMEOUT" docker run --rm busybox echo hi 2>&1)"
		timeout "$BOOT_TIMEOUT" docker run --rm busybox sh -c 'exit 3' >/dev/null 2>&1; rc=$?
		expect_eq "docker run: the container's exit status" "3" "$rc"
		expect_eq "--rm leaves nothing" "c2" "$(v ps -a --format '{{.Names}}')"
		expect_eq "docker run -i: stdin reaches the process, and its end closes it (StdinOnce)" "piped in" \
			"$(echo piped in | timeout "$BOOT_TIMEOUT" docker run -i --rm busybox cat 2>&1)"
		timeout "$BOOT_TIMEOUT" docker run -di --name rdi busybox sh -c 'read l; echo "got $l"; exit 4' >/dev/null 2>&1
		out=$(echo line-a | timeout "$BOOT_TIMEOUT" docker attach rdi 2>&1); rc=$?
		expect_eq "docker run -di, then docker attach: its stdin, then the container's status" "got line-a 4" "$out $rc"
		docker rm rdi >/dev/null 2>&1
		did=$(timeout "$BOOT_TIMEOUT" docker run -d busybox sh -c 'echo up; sleep 600' 2>&1)
		# logs -f follows until the container stops: read its first line, then stop it
		timeout "$BOOT_TIMEOUT" docker logs -f "$did" >"$T/logs-f.out" 2>&1 &
		logs_pid=$!
		i=0
		while [ $i -lt 1500 ] && ! grep -q . "$T/logs-f.out"; do i=$((i + 1)); sleep 0.2; done
		kill "$logs_pid" 2>/dev/null; wait "$logs_pid" 2>/dev/null
		expect_eq "docker run -d + logs -f: its output as it comes" "up" "$(head -1 "$T/logs-f.out")"
		expect_eq "docker exec" "in the vm" "$(timeout "$BOOT_TIMEOUT" docker exec "$did" echo in the vm 2>&1)"
		timeout "$BOOT_TIMEOUT" docker exec "$did" sh -c 'exit 4' >/dev/null 2>&1; rc=$?
		expect_eq "docker exec: the process's exit status" "4" "$rc"
		expect_eq "docker exec -i: stdin reaches it" "piped" "$(echo piped | timeout "$BOOT_TIMEOUT" docker exec -i "$did" cat 2>&1)"
		expect_eq "docker exec: stderr apart" "oops" "$(timeout "$BOOT_TIMEOUT" docker exec "$did" sh -c 'echo oops >&2' 2>&1 >/dev/null)"
		expect_match "docker top: the guest's processes" "sleep 600" "$(docker top "$did" 2>&1)"
		# container resize: the size reaches the process's terminal, which says so on SIGWINCH
		tid=$(timeout "$BOOT_TIMEOUT" docker run -d -t busybox sh -c \
			'trap "stty size" WINCH; echo ready; while :; do sleep 1; done' 2>&1)
		timeout 120 docker logs -f "$tid" 2>&1 | grep -m1 -q ready
		expect_eq "POST /containers/{id}/resize on a tty container" "200" \
			"$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X POST "http://d/v1.41/containers/$tid/resize?h=33&w=101")"
		expect_eq "... its process sees the new size" "33 101" \
			"$(timeout 120 docker logs -f "$tid" 2>&1 | tr -d '\r' | grep -m1 '^33 101$')"
		docker rm -f "$tid" >/dev/null 2>&1
		# exec resize: docker exec -it sends its terminal's size, which must reach the process's.
		# The terminal is a pty of python's, sized 33x101 and never written to: script(1) writes
		# a byte into its terminal when its own stdin ends, which the guest's tty echoes as ^@.
		out=$(timeout "$BOOT_TIMEOUT" python3 -c '
import fcntl, os, pty, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
    os.execvp(sys.argv[1], sys.argv[1:])
while True:
    try:
        b = os.read(fd, 4096)
    except OSError:
        break
    if not b:
        break
    sys.stdout.buffer.write(b)
os.waitpid(pid, 0)' docker exec -it "$did" sh -c \
			'for i in $(seq 100); do s=$(stty size); [ "$s" = "33 101" ] && break; sleep 0.1; done; echo $s' \
			2>&1 | tr -d '\r' | tail -1)
		expect_eq "docker exec -it: the terminal's size reaches the process (exec resize)" "33 101" "$out"
		# docker network create, and two containers on it that reach each other by name
		docker network create dn >/dev/null 2>&1
		timeout "$BOOT_TIMEOUT" docker run -d --network dn --name dsrv busybox \
			sh -c 'mkdir -p /w && echo from-dsrv > /w/i && exec httpd -f -p 80 -h /w' >/dev/null 2>&1
		expect_eq "docker run --network: a container reaches another by its name" "from-dsrv" \
			"$(timeout "$BOOT_TIMEOUT" docker run --rm --network dn busybox \
				sh -c 'for i in $(seq 60); do wget -qO- http://dsrv/i && exit; sleep 1; done' 2>&1)"
		docker rm -f dsrv >/dev/null 2>&1
		expect_eq "... and the network goes once they are gone" "dn" "$(docker network rm dn 2>&1)"
		out=$(docker update --memory 64m "$did" 2>&1); rc=$?
		expect_match "docker update --memory of a running container: refused with what to do" \
			"is running: its micro-VM's memory, CPUs and process limit are fixed while it runs; stop it" "$rc $out"
		expect_eq "docker update --restart of a running container: at once" "$did unless-stopped" \
			"$(docker update --restart unless-stopped "$did" 2>&1) $(v inspect -f '{{.HostConfig.RestartPolicy.Name}}' "$did")"
		# docker cp: HEAD (stat), GET and PUT /containers/{id}/archive
		head -c 70000 /dev/urandom >"$T/cp-in.bin"
		check "docker cp host -> container" timeout "$BOOT_TIMEOUT" docker cp "$T/cp-in.bin" "$did:/tmp/"
		expect_eq "docker cp host -> container: the bytes arrive" "$(md5sum <"$T/cp-in.bin")" \
			"$(timeout "$BOOT_TIMEOUT" docker exec "$did" sh -c 'md5sum < /tmp/cp-in.bin' 2>&1)"
		check "docker cp container -> host" timeout "$BOOT_TIMEOUT" docker cp "$did:/tmp/cp-in.bin" "$T/cp-back.bin"
		check "docker cp container -> host: byte for byte" cmp "$T/cp-in.bin" "$T/cp-back.bin"
		expect_eq "archive HEAD: docker's stat header (name, size, a regular file's mode)" "cp-in.bin 70000 420" \
			"$(curl -s -I --unix-socket "$SOCK" "http://d/v1.41/containers/$did/archive?path=/tmp/cp-in.bin" | tr -d '\r' |
			   sed -n 's/^X-Docker-Container-Path-Stat: //Ip' | base64 -d | jq -r '"\(.name) \(.size) \(.mode)"')"
		expect_eq "archive HEAD of a folder: Go's directory bit" "tmp true" \
			"$(curl -s -I --unix-socket "$SOCK" "http://d/v1.41/containers/$did/archive?path=/tmp/" | tr -d '\r' |
			   sed -n 's/^X-Docker-Container-Path-Stat: //Ip' | base64 -d | jq -r '"\(.name) \(.mode >= 2147483648)"')"
		expect_match "docker cp of a missing path: docker's message" "Could not find the file /nope in container" \
			"$(timeout "$BOOT_TIMEOUT" docker cp "$did:/nope" "$T/nope" 2>&1)"
		out=$(timeout "$BOOT_TIMEOUT" docker stats --no-stream --format '{{.Name}}|{{.MemUsage}}|{{.PIDs}}|{{.BlockIO}}' "$did" 2>&1)
		expect_match "docker stats --no-stream: the guest's memory and PIDs, the disk's bytes" \
			'^[^|]+\|[0-9.]+MiB / [0-9.]+MiB\|[1-9][0-9]*\|[0-9.]+[kMG]?B / [0-9.]+[kMG]?B$' "$out"
		expect_eq "docker stats: the same numbers as vmm stats" \
			"$(v stats --no-stream --format '{{.Name}}|{{.PIDs}}' "$did")" "$(echo "$out" | cut -d'|' -f1,3)"
		timeout -s KILL 60 curl -sN --unix-socket "$SOCK" "http://d/v1.41/containers/$did/stats" | head -2 >"$T/stats.stream"
		expect_eq "stats stream: a JSON object a line, precpu the line before's cpu" \
			"$(sed -n 1p "$T/stats.stream" | jq -c .cpu_stats)" "$(sed -n 2p "$T/stats.stream" | jq -c .precpu_stats)"
		expect_match "stats of an unknown container: 404" ' 404$' \
			"$(api -w ' %{http_code}' "http://d/v1.41/containers/nope/stats?stream=false")"
		check "docker pause" docker pause "$did"
		expect_eq "docker inspect: paused" "paused true" "$(docker inspect -f '{{.State.Status}} {{.State.Paused}}' "$did" 2>&1)"
		expect_match "docker info: one paused" "^1$" "$(docker info -f '{{.ContainersPaused}}' 2>&1)"
		expect_match "docker exec in a paused container refused" "is paused, unpause the container before exec" \
			"$(docker exec "$did" true 2>&1)"
		check "docker unpause" docker unpause "$did"
		expect_match "docker unpause again: a conflict" "is not paused" "$(docker unpause "$did" 2>&1)"
		check "docker stop" timeout "$BOOT_TIMEOUT" docker stop -t 1 "$did"
		check "docker rm" docker rm "$did"
	else
		out=$(timeout -s KILL 120 docker run --rm busybox echo hi 2>&1); rc=$?
		expect_match "docker run without KVM: the runner's error, through the daemon" \
			"^docker: Error response from daemon: .*did not start: /dev/kvm" "$out"
		expect_eq "... exit 125, as docker's for a container that cannot start" "125" "$rc"
		expect_eq "... and --rm left nothing behind" "c2" "$(v ps -a --format '{{.Names}}')"
		timeout -s KILL 120 docker run --name keep busybox true >/dev/null 2>&1; rc=$?
		expect_eq "docker run without --rm: the created container stays, as docker's does" "125 created" \
			"$rc $(v inspect -f '{{.State.Status}}' keep)"
		docker rm keep >/dev/null 2>&1
		i=0	# attach and wait notice their client left within a second
		while [ "$(ls /proc/$main_pid/task | wc -l)" -gt 2 ] && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
		expect_eq "no request is left hanging in the service" "2" "$(ls /proc/$main_pid/task | wc -l)"
		expect_eq "wait (not-running) on a container that is not running: at once, its exit code" \
			"{\"StatusCode\":$(v inspect -f '{{.State.ExitCode}}' c2),\"Error\":null}" \
			"$(api -X POST http://d/v1.41/containers/c2/wait)"
		curl -s --max-time 2 --unix-socket "$SOCK" -X POST "http://d/v1.41/containers/c2/wait?condition=next-exit" \
			>/dev/null; rc=$?
		expect_eq "wait (next-exit): the headers come, the body waits for a run (curl times out)" "28" "$rc"
		i=0
		while [ "$(ls /proc/$main_pid/task | wc -l)" -gt 2 ] && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
		expect_eq "... and the waiting ends when its client leaves" "2" "$(ls /proc/$main_pid/task | wc -l)"
	fi
	expect_match "docker top of a container that is not running: 409" "is not running" "$(docker top c2 2>&1)"
	docker create --name rp --restart on-failure:2 busybox false >/dev/null 2>&1
	expect_eq "docker create --restart on-failure:2: HostConfig.RestartPolicy, and vmm's own view" "on-failure 2 on-failure" \
		"$(docker inspect -f '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}' rp 2>&1) $(v inspect -f '{{.HostConfig.RestartPolicy.Name}}' rp 2>&1)"
	expect_eq "docker events --since 10m --until 0s: the store's replay" "create" \
		"$(timeout 20 docker events --since 10m --until 0s --filter container=rp --format '{{.Action}}' 2>&1)"
	docker rm rp >/dev/null 2>&1
	docker create --name ini --init busybox true >/dev/null 2>&1
	expect_eq "docker create --init: HostConfig.Init" "true true" \
		"$(docker inspect -f '{{.HostConfig.Init}}' ini 2>&1) $(v inspect -f '{{.HostConfig.Init}}' ini 2>&1)"
	docker rm ini >/dev/null 2>&1
	expect_match "a restart policy vmm does not know: 400" "invalid restart policy 'sometimes'.* 400$" \
		"$(api -w ' %{http_code}' -H 'Content-Type: application/json' -d '{"Image":"busybox","HostConfig":{"RestartPolicy":{"Name":"sometimes"}}}' http://d/v1.41/containers/create)"
	expect_match "docker exec in a container that is not running: docker's 409" \
		"Error response from daemon: Container c2 is not running" "$(docker exec c2 true 2>&1)"
	expect_match "image inspect of a missing image: docker's 404 words, which compose looks for" \
		'"message":"No such image: nosuch:1"} 404$' "$(api -w ' %{http_code}' http://d/v1.41/images/nosuch:1/json)"
	expect_match "exec inspect of an unknown instance: 404" '"message":"No such exec instance: nope"} 404$' \
		"$(api -w ' %{http_code}' http://d/v1.41/exec/nope/json)"
	expect_match "exec start of an unknown instance: 404" ' 404$' \
		"$(api -o /dev/null -w ' %{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' http://d/v1.41/exec/nope/start)"
	expect_match "exec start with a ConsoleSize that is not [rows, cols]: 400, saying so" \
		'"message":"ConsoleSize: want \[rows, cols\], each 0 to 65535"} 400$' \
		"$(api -w ' %{http_code}' -X POST -H 'Content-Type: application/json' -d '{"ConsoleSize":[24,-1]}' http://d/v1.41/exec/nope/start)"
	expect_eq "exec resize of an unknown instance: 404; without a size: 400" "404 400" \
		"$(api -o /dev/null -w '%{http_code}' -X POST 'http://d/v1.41/exec/nope/resize?h=3&w=4') $(api -o /dev/null -w '%{http_code}' -X POST 'http://d/v1.41/exec/nope/resize?h=3')"
	out=$(v exec --size-fd 1 c2 true 2>&1); rc=$?
	expect_match "vmm exec --size-fd of stdio: refused" "^125 vmm: error: --size-fd 1: a descriptor above 2" "$rc $out"
	expect_match "docker kill of a stopped container: 409 not running" "is not running" "$(docker kill c2 2>&1)"
	expect_eq "docker rm -v c2" "c2" "$(docker rm -v c2 2>&1)"
	expect_eq "gone for vmm too, with its anonymous volume" " 0" "$(v ps -aq) $(v volume ls -q | wc -l)"

	expect_eq "docker volume create" "v1" "$(docker volume create --label a=b v1 2>&1)"
	expect_eq "vmm volume ls sees it" "v1" "$(v volume ls -q)"
	expect_eq "docker volume inspect" "v1 local map[a:b]" \
		"$(docker volume inspect -f '{{.Name}} {{.Driver}} {{.Labels}}' v1 2>&1)"
	expect_eq "docker volume ls" "v1" "$(docker volume ls -q 2>&1)"
	expect_match "docker volume create -d other: refused" "not supported" "$(docker volume create -d nfs v2 2>&1)"
	expect_eq "docker volume rm" "v1" "$(docker volume rm v1 2>&1)"
	expect_eq "... and it is gone" "" "$(v volume ls -q)"

	# events: what happens to containers, as it happens (whoever does it: the API or the CLI)
	docker events --filter type=container --format '{{.Action}} {{.Actor.Attributes.name}}' >"$T/events" 2>&1 &
	evpid=$!
	pids="$pids $evpid"
	i=0	# it listens once the service watches the containers folder: an inotify descriptor appears
	while ! ls -l "/proc/$main_pid/fd" 2>/dev/null | grep -q inotify && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
	docker create --name ev1 busybox true >/dev/null 2>&1
	v rm ev1 >/dev/null
	i=0
	while ! grep -q '^destroy' "$T/events" && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
	kill "$evpid" 2>/dev/null
	expect_eq "docker events: create and destroy (the CLI's rm too)" "create ev1 destroy ev1" \
		"$(tr '\n' ' ' <"$T/events" | sed 's/ $//')"
	expect_match "events with an unknown filter: 400" ' 400$' \
		"$(api -o /dev/null -w ' %{http_code}' 'http://d/v1.41/events?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D')"

	# images in and out: save | load, and pull from Debian's docker-registry on loopback
	check "docker save -o" docker save -o "$T/bb.tar" busybox
	expect_eq "the archive is docker's: manifest.json names busybox:latest" '["busybox:latest"]' \
		"$(tar xOf "$T/bb.tar" manifest.json | jq -c '.[0].RepoTags')"
	expect_eq "docker save | tar: the same bytes as vmm save" "$(v save busybox | sha256sum)" \
		"$(docker save busybox | sha256sum)"
	docker rmi busybox >/dev/null 2>&1
	expect_eq "docker load -i: docker's words" "Loaded image: busybox:latest" "$(docker load -i "$T/bb.tar" 2>&1)"
	expect_eq "vmm sees the loaded image" "$(tar xOf "$T/bb.tar" manifest.json | jq -r '.[0].Config' | sed 's/.json$//')" \
		"$(v image inspect -f '{{.Id}}' busybox | sed 's/^sha256://')"
	out=$(docker load </etc/passwd 2>&1); rc=$?
	expect_match "docker load of something not an archive: the daemon's one-line error" "not a readable archive" "$out"
	expect_eq "... failing, with nothing spooled left behind" "1 0" "$rc $(ls "$VMM_ROOT/tmp" | wc -l)"
	P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then
		skip "docker pull through the API" "docker-registry or skopeo not installed (scripts/install-deps.sh)"
	else
		REGISTRY_HTTP_ADDR="127.0.0.1:$P" REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$T/reg" \
			docker-registry serve tests/registry/config.yml >"$T/reg.log" 2>&1 &
		pids="$pids $!"
		i=0
		until curl -sf "http://127.0.0.1:$P/v2/" >/dev/null || [ $i -gt 200 ]; do i=$((i + 1)); sleep 0.1; done
		skopeo copy -q --dest-tls-verify=false "docker-archive:$T/bb.tar" "docker://127.0.0.1:$P/lib/bb:1"
		out=$(docker pull "127.0.0.1:$P/lib/bb:1" 2>&1)
		expect_match "docker pull: docker's progress and status" \
			"Pull complete.*Status: Downloaded newer image for 127.0.0.1:$P/lib/bb:1" "$(echo "$out" | tr '\n' ' ')"
		expect_match "docker pull again: up to date" "Image is up to date" "$(docker pull "127.0.0.1:$P/lib/bb:1" 2>&1)"
		expect_eq "vmm sees the pulled image" "$(v image inspect -f '{{.Id}}' busybox)" \
			"$(v image inspect -f '{{.Id}}' "127.0.0.1:$P/lib/bb:1")"
		out=$(docker pull "127.0.0.1:$P/lib/nosuch:1" 2>&1); rc=$?
		expect_match "docker pull of a missing image: the registry's answer" "no such repository or tag" "$out"
		docker tag "127.0.0.1:$P/lib/bb:1" "127.0.0.1:$P/lib/copy:1"
		out=$(docker push "127.0.0.1:$P/lib/copy:1" 2>&1)
		want=$(skopeo inspect --tls-verify=false --raw "docker://127.0.0.1:$P/lib/bb:1" | sha256sum | cut -d' ' -f1)
		expect_eq "docker push: docker's lines, the layer mounted from where it was pulled" \
			"The push refers to repository [127.0.0.1:$P/lib/copy]
$(v image inspect -f '{{index .RootFS.Layers 0}}' busybox | cut -c8-19): Mounted from lib/bb
1: digest: sha256:$want size: $(skopeo inspect --tls-verify=false --raw "docker://127.0.0.1:$P/lib/bb:1" | wc -c)" "$out"
		expect_eq "the registry has it under the new name" "$want" \
			"$(skopeo inspect --tls-verify=false --raw "docker://127.0.0.1:$P/lib/copy:1" | sha256sum | cut -d' ' -f1)"
		expect_eq "push's aux object: tag, digest" "1 sha256:$want" \
			"$(curl -s --unix-socket "$SOCK" -X POST "http://d/v1.41/images/127.0.0.1:$P/lib/copy/push?tag=1" |
				jq -r 'select(.aux) | .aux.Tag + " " + .aux.Digest')"
		out=$(docker push "127.0.0.1:$P/lib/nosuch:1" 2>&1); rc=$?
		expect_match "docker push of an image not in the store: fails, naming it" "lib/nosuch:1: no such image" "$rc $out"
		id=$(docker create "127.0.0.1:$P/lib/other:1" true 2>&1); rc=$?
		expect_eq "docker create of an image nowhere: fails, creating nothing" "1 0" "$([ $rc -ne 0 ] && echo 1) $(v ps -aq | wc -l)"
		docker rmi "127.0.0.1:$P/lib/bb:1" "127.0.0.1:$P/lib/copy:1" >/dev/null 2>&1
	fi

	nid=$(docker network create --subnet 10.77.0.0/24 n1 2>&1)
	expect_match "docker network create prints its ID" "^[0-9a-f]{64}$" "$nid"
	expect_eq "vmm network inspect: the subnet asked for" "10.77.0.0/24" \
		"$(v network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' n1)"
	expect_match "docker network ls lists it" "n1" "$(docker network ls --format '{{.Name}}' 2>&1)"
	expect_eq "docker network inspect" "n1 bridge" "$(docker network inspect -f '{{.Name}} {{.Driver}}' n1 2>&1)"
	# connect and disconnect, through docker and through vmm's CLI, on stopped containers
	docker create --name nc1 busybox true >/dev/null 2>&1
	out=$(docker network connect --alias web --ip 10.77.0.9 n1 nc1 2>&1); rc=$?
	expect_eq "docker network connect --alias --ip" "0 " "$rc $out"
	expect_eq "... the container is on n1 with its alias and address" "n1 web 10.77.0.9/24" \
		"$(jq -r '.HostConfig | "\(.NetworkMode) \(.VmmNetworkAliases[0]) \(.IPAddress)"' \
			"$VMM_ROOT/containers/$(v inspect -f '{{.Id}}' nc1)/config.json" 2>&1)"
	expect_match "... inspect shows the alias" "web" \
		"$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.Aliases}}{{end}}' nc1 2>&1)"
	expect_eq "docker ps --filter network=n1: the rows' networks, as docker lists them" "nc1 n1" \
		"$(docker ps -a --filter network=n1 --format '{{.Names}} {{.Networks}}' 2>&1)"
	out=$(docker network connect n1 nc1 2>&1); rc=$?
	expect_match "connect again: refused" "^1 .*container nc1 is already connected to network n1" "$rc $out"
	out=$(docker network rm n1 2>&1)
	expect_match "network rm while a container is connected: refused" "has active endpoints" "$out"
	v network create n3 >/dev/null
	nets() { v inspect -f '{{range $k, $v := .NetworkSettings.Networks}} {{$k}}{{end}}' "$1" 2>&1; }
	out=$(v network connect --alias second n3 nc1 2>&1); rc=$?
	expect_eq "vmm network connect to a second network: the container is on both from its next start" \
		"0  n1 n3" "$rc $out$(nets nc1)"
	expect_eq "... kept in its configuration after the first" '["n3"] second' \
		"$(jq -c -r '.HostConfig | "\(.VmmMoreNetworks) \(.VmmNetworkAliases[1])"' \
			"$VMM_ROOT/containers/$(v inspect -f '{{.Id}}' nc1)/config.json" 2>&1)"
	# the docker CLI joins the networks in its map's order, which Go randomizes
	expect_eq "docker ps --filter network= of its second network: its networks" "nc1: n1 n3" \
		"$(docker ps -a --filter network=n3 --format '{{.Names}}' 2>&1): $(docker ps -a --filter network=n3 \
			--format '{{.Networks}}' 2>&1 | tr ',' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "vmm ps: the same" "nc1 n1,n3" "$(v ps -a --filter network=n3 --format '{{.Names}} {{.Networks}}' 2>&1)"
	out=$(v network disconnect n3 nc1 2>&1); rc=$?
	expect_eq "vmm network disconnect from the second network" "0  n1" "$rc $out$(nets nc1)"
	out=$(v network disconnect n3 nc1 2>&1); rc=$?
	expect_eq "disconnect from a network it is not on" "125 vmm: error: container nc1 is not connected to network n3" "$rc $out"
	out=$(v network connect bridge nc1 2>&1); rc=$?
	expect_match "connect to a predefined network: refused" "^125 vmm: error: network bridge is predefined" "$rc $out"
	out=$(docker network disconnect n1 nc1 2>&1); rc=$?
	expect_eq "docker network disconnect" "0 " "$rc $out"
	expect_eq "... it is on no network now, as docker leaves it" "none" "$(v inspect -f '{{.HostConfig.NetworkMode}}' nc1)"
	out=$(v network connect --ip 10.1.2.3 n3 nc1 2>&1); rc=$?
	expect_match "vmm network connect --ip outside the subnet: refused" "^125 vmm: error: --ip 10\\.1\\.2\\.3: not a host address of network n3" "$rc $out"
	out=$(v network connect --alias db n3 nc1 2>&1); rc=$?
	expect_eq "vmm network connect" "0 n3" "$rc $out$(v inspect -f '{{.HostConfig.NetworkMode}}' nc1)"
	rs() { curl -s -o "$T/rs.out" -w '%{http_code}' --unix-socket "$SOCK" -X POST "http://d/v1.41/containers/$1/resize?$2"; }
	expect_eq "container resize of a stopped container: 409, not running" "409 container nc1 is not running" \
		"$(rs nc1 'h=30&w=100') $(jq -r .message "$T/rs.out")"
	expect_eq "container resize of no container: 404" "404" "$(rs nosuch 'h=30&w=100')"
	expect_eq "container resize without a size: 400" "400" "$(rs nc1 'h=30')"
	expect_eq "container resize with a bad size: 400" "400" "$(rs nc1 'h=30&w=1x')"
	# update: the restart policy and the limits of a stopped container
	out=$(docker update --restart on-failure:3 --memory 64m --cpus 1.5 --pids-limit 50 nc1 2>&1); rc=$?
	expect_eq "docker update: prints the container" "0 nc1" "$rc $out"
	expect_eq "... inspect shows the new policy and limits, and the VM sized to them" \
		"on-failure 3 67108864 1500000000 50 167772160 2" \
		"$(v inspect -f '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}} {{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.VmMemory}} {{.HostConfig.Vcpus}}' nc1 2>&1)"
	out=$(v update --restart no --pids-limit -1 nc1 2>&1); rc=$?
	expect_eq "vmm update --restart no --pids-limit -1" "0 nc1 [] 0 67108864" \
		"$rc $out $(v inspect -f '[{{.HostConfig.RestartPolicy.Name}}] {{.HostConfig.PidsLimit}} {{.HostConfig.Memory}}' nc1)"
	out=$(v update nc1 2>&1); rc=$?
	expect_match "vmm update with nothing to change: a usage error" "^125 vmm: error: nothing to change" "$rc $out"
	out=$(v update --memory 1k nc1 2>&1); rc=$?
	expect_match "vmm update --memory too small" "^125 .*--memory 1k: not a size of at least 6m" "$rc $out"
	out=$(docker update --cpu-shares 512 nc1 2>&1); rc=$?
	expect_match "docker update of a limit a micro-VM does not have: refused, named" "CpuShares: not served" "$out"
	out=$(v update --restart always nosuch 2>&1); rc=$?
	expect_match "vmm update of no container" "^125 vmm: error: .*nosuch" "$rc $out"
	docker rm nc1 >/dev/null 2>&1
	v create --name eg --egress-allow dns busybox true >/dev/null 2>&1
	out=$(v network connect n3 eg 2>&1); rc=$?
	expect_eq "network connect of a container with an egress allow-list: refused, not dropped" \
		"125 vmm: error: container eg has --egress-allow rules, which only the default network enforces: it cannot join network n3" "$rc $out"
	v rm eg >/dev/null 2>&1
	v network rm n3 >/dev/null
	expect_eq "docker network rm" "n1" "$(docker network rm n1 2>&1)"

	# prune: what docker's prune commands remove, and what they keep
	docker network create n2 >/dev/null 2>&1
	docker volume create named >/dev/null 2>&1
	docker create --name pr1 -v /anon2 busybox true >/dev/null 2>&1
	expect_eq "docker network prune" "Deleted Networks: n2" "$(docker network prune -f 2>&1 | tr '\n' ' ' | sed 's/ *$//')"
	expect_eq "docker volume prune (API 1.41: every unused volume) keeps one a container uses" "named 1" \
		"$(docker volume prune -f 2>&1 | sed -n 2p) $(v volume ls -q | grep -vc named)"
	expect_match "docker container prune removes the stopped container" "^Deleted Containers: [0-9a-f]{64} +Total" \
		"$(docker container prune -f 2>&1 | tr '\n' ' ')"
	expect_eq "docker volume prune: now its anonymous volume goes too" "1 0" \
		"$(docker volume prune -f 2>&1 | grep -c '^[0-9a-f]\{64\}$') $(v volume ls -q | wc -l)"
	expect_match "docker image prune" "^Total reclaimed space" "$(docker image prune -f 2>&1)"
	expect_eq "the images are all still there" "busybox:latest" "$(v images --format '{{.Repository}}:{{.Tag}}')"
fi

# --- docker-py, as a script would use it
if python3 -c 'import docker' 2>/dev/null; then
	out=$(python3 - "$SOCK" <<'EOF' 2>&1
import sys, docker
c = docker.DockerClient(base_url="unix://" + sys.argv[1])
print(c.version()["ApiVersion"])
print(",".join(t for i in c.images.list() for t in i.tags))
ct = c.containers.create("busybox", ["echo", "from", "py"], name="py1", environment={"K": "v"})
ct.reload()
print(ct.name, ct.status, " ".join(ct.attrs["Config"]["Cmd"]))
ct.remove()
print(len(c.containers.list(all=True)))
try:
    c.containers.get("nosuch")
except docker.errors.NotFound as e:
    print("NotFound")
EOF
)
	expect_eq "docker-py: version, images, create, inspect, remove, NotFound" \
		"1.41 busybox:latest py1 created echo from py 0 NotFound" "$(echo "$out" | tr '\n' ' ' | sed 's/ $//')"
else
	skip "api: docker-py" "python3-docker is not installed (scripts/install-deps.sh installs it)"
fi

# --- the service itself
out=$(v system service --listen "unix://$SOCK" 2>&1); rc=$?
expect_eq "a second service on a live socket is refused" "1 vmm: error: $SOCK: another service listens there; stop it or give another --listen path" "$rc $out"
out=$(v system service --listen tcp://0.0.0.0:2375 2>&1); rc=$?
expect_match "tcp:// on a non-loopback address needs --allow-remote" "^vmm: error: tcp://0.0.0.0:2375: not a loopback address.*--allow-remote" "$out"
expect_eq "... exit 1" "1" "$rc"
expect_match "--listen with another scheme: one error line" "want unix:///PATH or tcp://127.0.0.1:PORT" \
	"$(v system service --listen http://x 2>&1)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if serve tcp --listen "tcp://127.0.0.1:$port"; then
	expect_eq "tcp://127.0.0.1:PORT serves too" "OK" "$(curl -s "http://127.0.0.1:$port/_ping")"
	kill "$last_pid"
else
	fail "tcp://127.0.0.1:PORT serves too" "$(cat "$T/tcp.err")"
fi
if serve idle --listen "unix://$T/idle.sock" --time 1; then
	check "--time 1: the service exits once idle" gone "$last_pid"
	check "... and removes its socket" test ! -e "$T/idle.sock"
else
	fail "--time 1 service starts" "$(cat "$T/idle.err")"
fi
v create --name survivor busybox true >/dev/null
kill "$main_pid"
check "SIGTERM stops the service" gone "$main_pid"
check "... it removes its socket" test ! -e "$SOCK"
expect_eq "... and leaves containers alone" "survivor" "$(v ps -a --format '{{.Names}}')"
