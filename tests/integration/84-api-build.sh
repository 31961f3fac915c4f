#!/bin/sh
# docker build (the classic builder's /build), docker import (/images/create?fromSrc=-),
# docker-py's images.build and docker-compose build, all through `vmm system service`.
. tests/integration/lib.sh

for tool in docker curl jq python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		skip "api build" "$tool not installed (scripts/install-deps.sh)"
		exit 0
	fi
done
export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run" DOCKER_CONFIG="$T/docker-config" DOCKER_BUILDKIT=0
if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	fail "api build: busybox image" "$(tail -2 "$T/img.log")"
	exit 0
fi
SOCK="$T/docker.sock"
"$VMM" system service --listen "unix://$SOCK" >"$T/svc.out" 2>"$T/svc.err" &
svc=$!
cleanup_hook() { kill "$svc" 2>/dev/null; }
i=0
while ! grep -q '^DOCKER_HOST=' "$T/svc.out" 2>/dev/null; do
	kill -0 "$svc" 2>/dev/null && [ $i -lt 300 ] || { fail "system service starts" "$(cat "$T/svc.err")"; exit 0; }
	i=$((i + 1)); sleep 0.1
done
export DOCKER_HOST="unix://$SOCK"

C="$T/ctx"
mkdir -p "$C/sub"
echo hello >"$C/hello.txt"
echo inner >"$C/sub/inner.txt"
ln "$C/hello.txt" "$C/hello-hard.txt"
ln -s hello.txt "$C/hello-link"
echo 'secret' >"$C/ignored.key"
echo '*.key' >"$C/.dockerignore"
cat >"$C/Dockerfile" <<'EOF'
FROM busybox
ARG VER=1
ENV VER=$VER
COPY hello.txt hello-hard.txt hello-link sub /app/
LABEL stage=one
CMD ["cat", "/app/hello.txt"]
EOF

out=$(docker build -t api/one:1 --build-arg VER=7 "$C" 2>&1); rc=$?
expect_eq "docker build through the service exits 0" "0" "$rc"
expect_match "... with docker's step lines" "Step 4/6 : COPY hello.txt hello-hard.txt hello-link sub /app/" "$out"
expect_match "... and its last line" "Successfully tagged api/one:1" "$out"
expect_eq "the image: its build arg" "[PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin VER=7]" \
	"$("$VMM" inspect --format '{{.Config.Env}}' api/one:1 2>&1)"
expect_eq "the image: its command" "[cat /app/hello.txt]" "$("$VMM" inspect --format '{{.Config.Cmd}}' api/one:1 2>&1)"
"$VMM" create --name one api/one:1 >/dev/null 2>&1
files=$("$VMM" export one 2>/dev/null | tar -tf - | grep '^app/' | sort | tr '\n' ' ')
expect_eq "the context's files are in it (hard link, symlink, folder contents; not .dockerignore'd)" \
	"app/ app/hello-hard.txt app/hello-link app/hello.txt app/inner.txt " "$files"

id=$(docker build -q --build-arg VER=8 "$C" 2>/dev/null)
expect_match "docker build -q: the image ID" "^sha256:[0-9a-f]{64}$" "$id"
expect_match "another build arg: another image (the cache knows ARGs)" "VER=8" \
	"$("$VMM" inspect --format '{{.Config.Env}}' "$id" 2>&1)"
out=$(printf 'FROM busybox\nENV FROM_STDIN=yes\n' | docker build -t api/stdin - 2>&1)
expect_match "docker build - (a Dockerfile on stdin)" "Successfully tagged api/stdin:latest" "$out"
mkdir -p "$T/alt"
printf 'FROM busybox\nCOPY hello.txt /alt\n' >"$T/alt/Other.dockerfile"
out=$(docker build -f "$T/alt/Other.dockerfile" -t api/alt "$C" 2>&1)
expect_match "docker build -f FILE outside the context" "Successfully tagged api/alt:latest" "$out"

out=$(printf 'FROM busybox\nCOPY nope /x\n' | docker build -t api/bad -f - "$C" 2>&1); rc=$?
expect_match "a failing build: docker shows the builder's error" \
	"file not found in build context or excluded by .dockerignore: nope" "$out"
expect_eq "... and exits non-zero" "1" "$rc"
out=$(curl -s --unix-socket "$SOCK" -X POST -H 'Content-Type: application/x-tar' --data-binary 'not a tar' \
	"http://d/v1.41/build?t=x" | tr -d '\n')
expect_match "/build with a body that is not a tar: 400 naming it" '"message":"the build context: not a tar' "$out"
python3 - "$T/climb.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("../../outside"); d = b"x"; i.size = 1; t.addfile(i, io.BytesIO(d))
PY
out=$(curl -s --unix-socket "$SOCK" -X POST --data-binary @"$T/climb.tar" "http://d/v1.41/build" | tr -d '\n')
expect_match "/build: a context member climbing out is refused" "member '../../outside' is outside the context" "$out"
[ ! -e "$T/root/outside" ] && [ ! -e "$T/outside" ]
expect_eq "... and nothing was written outside" "0" "$?"
# a context whose Dockerfile and sources are symlinks to host files: nothing of the host is read
echo "host secret" >"$T/host-secret"
python3 - "$T/links.tar" "$T/host-secret" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    for name, target in (("Dockerfile", sys.argv[2]), ("secret", sys.argv[2])):
        i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
PY
out=$(curl -s --unix-socket "$SOCK" -X POST --data-binary @"$T/links.tar" "http://d/v1.41/build" | tr -d '\n')
expect_match "/build: a Dockerfile linked to a host file is not read" "the build context has no Dockerfile" "$out"
case "$out" in *"host secret"*) fail "... and its content is nowhere in the reply" "$out" ;; *) pass "... and its content is nowhere in the reply" ;; esac
python3 - "$T/links2.tar" "$T/host-secret" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    d = b"FROM busybox\nCOPY secret /secret\n"; i = tarfile.TarInfo("Dockerfile"); i.size = len(d)
    t.addfile(i, io.BytesIO(d))
    i = tarfile.TarInfo("secret"); i.type = tarfile.SYMTYPE; i.linkname = sys.argv[2]; t.addfile(i)
PY
out=$(curl -s --unix-socket "$SOCK" -X POST --data-binary @"$T/links2.tar" "http://d/v1.41/build?t=api/leak" | tr -d '\n')
expect_match "/build: COPY of a source linked to a host file is refused" "file not found in build context.*secret" "$out"
out=$(curl -s --unix-socket "$SOCK" -X POST "http://d/v1.41/build?remote=https://example.com/x.git" \
	--data-binary @"$T/climb.tar" | tr -d '\n')
expect_match "/build?remote= is refused" "remote build contexts are not served" "$out"

# docker diff, export and commit of a container
expect_eq "docker diff of a container never started: nothing" "" "$(docker diff one 2>&1)"
expect_match "docker export" "app/hello.txt" "$(docker export one 2>/dev/null | tar -tf - | tr '\n' ' ')"
cid=$(docker commit -c 'ENV COMMITTED=1' -m "by docker" -a "Ann" one api/committed:3 2>&1)
expect_match "docker commit" "^sha256:[0-9a-f]{64}$" "$cid"
expect_match "... its change and author" "COMMITTED=1.*Ann" \
	"$("$VMM" inspect --format '{{.Config.Env}} {{.Author}}' api/committed:3 2>&1)"
out=$(docker diff nosuch 2>&1); rc=$?
expect_match "docker diff of a missing container: docker's error" "nosuch" "$out"

# docker import
tar -C "$C" -cf "$T/rootfs.tar" sub hello.txt
id=$(docker import -c 'CMD ["/bin/sh"]' -c 'ENV A=1' -m "via docker" "$T/rootfs.tar" api/imported:2 2>&1)
expect_match "docker import through the service" "^sha256:[0-9a-f]{64}$" "$id"
expect_eq "... its -c changes" "[/bin/sh] [A=1]" "$("$VMM" inspect --format '{{.Config.Cmd}} {{.Config.Env}}' api/imported:2 2>&1)"
expect_match "... its message" "via docker" "$("$VMM" history api/imported:2 2>&1)"

# docker-py and docker-compose build through /build as well
if python3 -c 'import docker' 2>/dev/null; then
	out=$(python3 - "$C" <<'PY' 2>&1
import sys, docker
c = docker.from_env()
img, logs = c.images.build(path=sys.argv[1], tag="api/py:1", buildargs={"VER": "9"})
print(img.tags, [l["stream"].strip() for l in logs if "stream" in l][-1])
PY
)
	expect_eq "docker-py images.build" "['api/py:1'] Successfully tagged api/py:1" "$out"
else
	skip "docker-py images.build" "python3-docker not installed"
fi
if command -v docker-compose >/dev/null 2>&1; then
	mkdir -p "$T/proj"
	printf 'services:\n  web:\n    build:\n      context: %s\n      args:\n        VER: "11"\n    image: api/compose-web:1\n' \
		"$C" >"$T/proj/docker-compose.yml"
	out=$(cd "$T/proj" && docker-compose build 2>&1); rc=$?
	expect_eq "docker-compose build" "0" "$rc"
	expect_match "... the image it names" "VER=11" "$("$VMM" inspect --format '{{.Config.Env}}' api/compose-web:1 2>&1)"
else
	skip "docker-compose build" "docker-compose not installed"
fi
