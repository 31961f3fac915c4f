#!/bin/sh
# vmm create (a container ready to start, no VM yet), rename, inspect -f, ps
# --format, rm -v, and volumes in use by a container: all host-side.
. tests/integration/lib.sh

export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	fail "create: busybox image" "$(tail -2 "$T/img.log")"
	exit 0
fi
v() { "$VMM" "$@"; }

id=$(v create --name c1 -e A=1 -v /anon -v named:/data --tmpfs /t:size=1m -v "$T/host:/host:ro" busybox echo hi)
expect_match "create prints the new container's ID" "^[0-9a-f]{64}$" "$id"
expect_eq "ps -a --format: created, not running" "c1 created" "$(v ps -a --format '{{.Names}} {{.State}}')"
expect_eq "ps (running only) does not show it" "" "$(v ps -q)"
expect_eq "ps --format: docker's row fields (.ID short, .Mounts, .LocalVolumes, .Networks, .Labels)" \
	"$(echo "$id" | cut -c1-12)|named,$(echo "$T/host" | cut -c1-14)…|2|bridge|" \
	"$(v ps -a --format '{{.ID}}|{{.Mounts}}|{{.LocalVolumes}}|{{.Networks}}|{{.Labels}}' | sed 's/^\([^|]*|\)[0-9a-f]*…,/\1/')"
expect_eq "ps --format --no-trunc: the full ID" "$id" "$(v ps -a --no-trunc --format '{{.ID}}')"
expect_match "ps --format: .CreatedAt as docker's (Go's time.String())" \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} [-+][0-9]{4} [A-Z0-9+-]+$' "$(v ps -a --format '{{.CreatedAt}}')"
out=$(v ps -a --format '{{.Nope}}' 2>&1); rc=$?
expect_eq "ps --format with an unknown field: one line, exit 125" \
	"125 vmm: error: template: executing at <.Nope>: can't evaluate field Nope" "$rc $out"
out=$(v images --format '{{.Foo}}' 2>&1); rc=$?
expect_eq "images --format with an unknown field: one line, exit 125" \
	"125 vmm: error: template: executing at <.Foo>: can't evaluate field Foo" "$rc $out"
expect_eq "inspect -f: status, command, env" "created echo [hi] A=1" \
	"$(v inspect -f '{{.State.Status}} {{.Path}} {{.Args}} {{range .Config.Env}}{{if eq . "A=1"}}{{.}}{{end}}{{end}}' c1)"
expect_eq "inspect -f: the mounts, as docker shows them (a --tmpfs is not one)" "volume:/anon:true volume:/data:true bind:/host:false" \
	"$(v inspect -f '{{range .Mounts}}{{.Type}}:{{.Destination}}:{{.RW}} {{end}}' c1 | sed 's/ $//')"
expect_eq "inspect: Mounts have docker's keys only" "Destination Driver Mode Name Propagation RW Source Type|Destination Mode Propagation RW Source Type" \
	"$(v inspect c1 | jq -r '[.[0].Mounts[] | keys | join(" ")] | unique | join("|")')"
expect_eq "inspect: HostConfig.Binds (-v as given), HostConfig.Tmpfs, Config.Volumes, no HostConfig.Mounts" \
	"[\"named:/data\",\"$T/host:/host:ro\"] {\"/t\":\"size=1m\"} {\"/anon\":{}} null" \
	"$(v inspect c1 | jq -c '.[0] | .HostConfig.Binds, .HostConfig.Tmpfs, .Config.Volumes, .HostConfig.Mounts' | tr '\n' ' ' | sed 's/ $//')"
check "-v created the missing host folder, as docker does" test -d "$T/host"
expect_eq "the named and the anonymous volume exist" "2" "$(v volume ls -q | wc -l)"
out=$(v volume rm named 2>&1); rc=$?
expect_eq "volume rm of a volume a (stopped) container uses is refused" "125 vmm: error: remove named: volume is in use - [$(echo "$id" | cut -c1-12)]" "$rc $out"
expect_eq "volume ls -f dangling=false lists both" "2" "$(v volume ls -q -f dangling=false | wc -l)"

check "rename c1 c2" v rename c1 c2
expect_eq "renamed" "c2" "$(v ps -a --format '{{.Names}}')"
v create --name c3 --mount type=tmpfs,target=/m,tmpfs-size=1m --mount "type=bind,source=$T/host,target=/b,readonly" busybox true >/dev/null
expect_eq "inspect: --mount type=tmpfs is in Mounts, as docker shows it" "tmpfs:/m bind:/b" \
	"$(v inspect -f '{{range .Mounts}}{{.Type}}:{{.Destination}} {{end}}' c3 | sed 's/ $//')"
expect_eq "inspect: HostConfig.Mounts (--mount), no Binds or Tmpfs" \
	"[{\"Type\":\"tmpfs\",\"Target\":\"/m\",\"TmpfsOptions\":{\"SizeBytes\":1048576}},{\"Type\":\"bind\",\"Source\":\"$T/host\",\"Target\":\"/b\",\"ReadOnly\":true}] null null" \
	"$(v inspect c3 | jq -c '.[0] | .HostConfig.Mounts, .HostConfig.Binds, .HostConfig.Tmpfs' | tr '\n' ' ' | sed 's/ $//')"
out=$(v rename c2 c3 2>&1); rc=$?
expect_eq "rename to a name in use is refused" "125 vmm: error: the container name \"c3\" is already in use by container $(v inspect -f '{{.Id}}' c3 | cut -c1-12)" "$rc $out"
out=$(v rename c2 'bad/name' 2>&1); rc=$?
expect_eq "rename to an invalid name is refused" "125 vmm: error: invalid container name \"bad/name\" (use [a-zA-Z0-9][a-zA-Z0-9_.-]+)" "$rc $out"
expect_eq "create --help names create, not run" "Usage: vmm create [OPTIONS] IMAGE [COMMAND] [ARG...]" "$(v create --help | head -1)"
out=$(v create --cpus 0 busybox 2>&1); rc=$?
expect_eq "create's usage errors point at create's help" "125 vmm: error: --cpus 0: a number of CPUs from 0.01 to 32 (see 'vmm create --help')" "$rc $out"
out=$(v create --restart sometimes busybox 2>&1); rc=$?
expect_eq "create --restart with a bad policy: one line, exit 125" "125 vmm: error: --restart: invalid restart policy 'sometimes': no, on-failure[:MAX-RETRIES], always or unless-stopped (see 'vmm create --help')" "$rc $out"
out=$(v system prune --bogus 2>&1); rc=$?
expect_eq "system prune with a bad flag: named, one line, exit 125" \
	"125 vmm: error: invalid option '--bogus' or missing argument (see 'vmm system prune --help')" "$rc $out"
out=$(v create --name c3 busybox true 2>&1); rc=$?
expect_match "create with a name in use is refused" "^vmm: error: the container name \"c3\" is already in use" "$out"
expect_eq "create with a name in use exits 125" 125 "$rc"
out=$(v create --name c3 -v newvol:/x -v "$T/new/dir:/y" busybox true 2>&1); rc=$?
expect_match "create with a name in use and new mounts: refused" "^vmm: error: the container name \"c3\" is already in use" "$out"
expect_eq "create with a name in use and new mounts: one line, exit 125" "125 1" "$rc $(printf '%s\n' "$out" | wc -l)"
check "a refused create makes no volume" sh -c "! '$VMM' volume ls -q | grep -qx newvol"
check "a refused create makes no -v folder" test ! -e "$T/new"

# --virtiofsd PATH: checked before anything is made, kept for every start of the container
out=$(v create --virtiofsd /nonexistent -v "$T/fsdx:/y" busybox true 2>&1); rc=$?
expect_eq "create --virtiofsd of a missing file: one line naming it, exit 125" \
	"125 vmm: error: virtiofsd /nonexistent: No such file or directory" "$rc $out"
check "create --virtiofsd of a missing file: no -v folder made" test ! -e "$T/fsdx"
printf '#!/bin/sh\nexit 1\n' >"$T/fsd"; chmod 755 "$T/fsd"
fid=$(v create --virtiofsd "$T/fsd" -v "$T/fsdx:/y" busybox true 2>&1)
expect_eq "create --virtiofsd PATH: kept in the container's config for its starts" "$T/fsd" \
	"$(jq -r .HostConfig.VmmVirtiofsd "$VMM_ROOT/containers/$fid/config.json" 2>&1)"
v rm "$fid" >/dev/null
# vmm check names the virtiofsd it found, and says so when there is none
expect_match "vmm check: which virtiofsd it found, or that there is none" \
	"^(ok +virtiofsd +/.* \((QEMU's C|the Rust) virtiofsd\)|warn +virtiofsd +not found)" \
	"$(v check 2>&1 | grep virtiofsd)"
expect_match "vmm check: VMM_VIRTIOFSD of a missing file: virtiofsd missing" "^warn +virtiofsd +not found" \
	"$(VMM_VIRTIOFSD=/nonexistent "$VMM" check 2>&1 | grep virtiofsd)"

expect_eq "rm -v: prints the name" "c2" "$(v rm -v c2)"
expect_eq "rm -v removes the anonymous volume, keeps the named one" "named" "$(v volume ls -q)"
check "volume rm works once no container uses it" v volume rm named
v rm c3 >/dev/null
expect_eq "nothing left" "" "$(v ps -aq)"
out=$(v ps -a --format '{{.Nope}}' 2>&1); rc=$?
expect_eq "ps --format with an unknown field and no row: nothing rendered, as docker" "0 " "$rc $out"

# vmm events: what happens to containers, filtered, as docker prints it
# "$VMM", not v: $! must be vmm itself; killing v's subshell would leave vmm running
"$VMM" events --filter label=tier=web --format '{{.Action}} {{.Actor.Attributes.name}}' >"$T/events" 2>&1 &
evpid=$!
i=0	# listening once it watches the containers folder: an inotify descriptor appears
while ! ls -l "/proc/$evpid/fd" 2>/dev/null | grep -q inotify && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
v create --name other busybox true >/dev/null
v create --name web1 -l tier=web busybox true >/dev/null
v rm other web1 >/dev/null
i=0
while ! grep -q '^destroy' "$T/events" && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
kill "$evpid" 2>/dev/null
expect_eq "vmm events --filter label=: create and destroy of the labelled one only" "create web1 destroy web1" \
	"$(tr '\n' ' ' <"$T/events" | sed 's/ $//')"

out=$(v events --filter bogus=1 2>&1); rc=$?
expect_eq "vmm events with an unknown filter: one line, exit 125" \
	"125 vmm: error: invalid filter 'bogus=1' (type=, event=, container=, image=, label=)" "$rc $out"
lid=$(v create -l a=b --label c busybox true)
v create --name plain busybox true >/dev/null
expect_eq "events --since: replays what the store holds (a create), --until 0s: then ends" "create plain" \
	"$(timeout 20 "$VMM" events --since 1h --until 0s --filter container=plain --format '{{.Action}} {{.Actor.Attributes.name}}')"
pid=$(v inspect -f '{{.Id}}' plain)
expect_eq "events --format: docker's documented example" "Type=container  Status=create  ID=$pid" \
	"$(timeout 20 "$VMM" events --since 1h --until 0s --filter container=plain --format 'Type={{.Type}}  Status={{.Status}}  ID={{.ID}}')"
expect_eq "events --format: docker's JSON keys and Actor" "create $pid busybox true $pid plain" \
	"$(timeout 20 "$VMM" events --since 1h --until 0s --filter container=plain \
		--format '{{.status}} {{.id}} {{.from}} {{eq .timeNano .TimeNano}} {{.Actor.ID}} {{.Actor.Attributes.name}}')"
expect_eq "events --format json: docker's JSON, an object a line" "create container create plain local true" \
	"$(timeout 20 "$VMM" events --since 1h --until 0s --filter container=plain --format json |
		jq -r '"\(.status) \(.Type) \(.Action) \(.Actor.Attributes.name) \(.scope) \(.time == (.timeNano / 1000000000 | floor))"')"
expect_eq "events --filter type=container --filter event=create: both hold" "create plain" \
	"$(timeout 20 "$VMM" events --since 1h --until 0s --filter type=container --filter event=create \
		--filter container=plain --format '{{.Action}} {{.Actor.Attributes.name}}')"
out=$(timeout 20 "$VMM" events --since 1h --until 0s --filter container=plain --format '{{.Nope}}' 2>&1); rc=$?
expect_eq "events --format with an unknown field: one line, exit 125" \
	"125 vmm: error: template: executing at <.Nope>: can't evaluate field Nope" "$rc $out"
v create --name gone busybox true >/dev/null && v rm gone >/dev/null
expect_eq "events --since: a removed container's create and destroy, from the journal" "create gone destroy gone" \
	"$(timeout 20 "$VMM" events --since 1h --until 0s --filter container=gone --format '{{.Action}} {{.Actor.Attributes.name}}' | tr '\n' ' ' | sed 's/ $//')"
out=$(v events --since yesterday 2>&1); rc=$?
expect_match "events --since: a bad time, named, exit 125" "^125 vmm: error: --since yesterday" "$rc $out"
expect_eq "ps --filter label=a=b (docker's -f)" "$lid" "$(v ps -a --no-trunc -q -f label=a=b)"
expect_eq "ps --format .Labels: k=v joined by commas" "a=b,c=" "$(v ps -a -f label=a=b --format '{{.Labels}}')"
expect_eq "ps --format .Label KEY (docker's method), and inspect's" "b [] b" \
	"$(v ps -a -f label=a=b --format '{{.Label "a"}} [{{.Label "c"}}]') $(v inspect -f '{{.Config.Label "a"}}' "$lid")"
expect_eq "ps --filter label=c --filter status=created: both hold" "$lid" \
	"$(v ps --no-trunc -q --filter label=c --filter status=created)"
expect_eq "ps --filter name=: a substring" "plain" "$(v ps -a --filter name=lai --format '{{.Names}}')"
expect_eq "ps --filter status=exited: none" "" "$(v ps -aq -f status=exited)"
expect_eq "ps --filter exited=0: created ones have not exited" "" "$(v ps -aq -f exited=0)"
out=$(v ps -f status=bogus 2>&1); rc=$?
expect_eq "ps --filter status= with no such state: one line, exit 125" \
	"125 vmm: error: invalid filter 'status=bogus' (created, restarting, running, removing, paused, exited or dead)" "$rc $out"
out=$(v ps -f exited=x 2>&1); rc=$?
expect_eq "ps --filter exited= not a number: one line, exit 125" \
	"125 vmm: error: invalid filter 'exited=x' (an exit code)" "$rc $out"
imgid=$(v images -q busybox)
for a in busybox busybox:latest docker.io/library/busybox "$imgid" "$(v images -q --no-trunc busybox)"; do
	expect_eq "ps --filter ancestor=$a: the image by any name or ID" "plain" \
		"$(v ps -a -f ancestor="$a" -f name=plain --format '{{.Names}}')"
done
expect_eq "ps --filter ancestor= of no image: none" "" "$(v ps -aq -f ancestor=nosuch)"
expect_eq "ps --filter id=PREFIX" "plain" "$(v ps -a -f id="$(echo "$pid" | cut -c1-6)" --format '{{.Names}}')"
out=$(v ps -f nope=1 2>&1); rc=$?
expect_eq "ps --filter with an unknown key: one line, exit 125" \
	"125 vmm: error: invalid filter 'nope=1' (status=, name=, id=, exited=, ancestor=, label=, network=)" "$rc $out"
expect_eq "ps --filter network=bridge: the default network's" "plain" "$(v ps -a -f network=bridge -f name=plain --format '{{.Names}}')"
expect_eq "ps --filter network= of another network: none" "" "$(v ps -aq -f network=none -f name=plain)"
expect_eq "ps -n 1: one container, stopped ones included" "1" "$(v ps -q -n 1 | wc -l)"
expect_eq "ps -l: the latest one" "1" "$(v ps -q -l | wc -l)"
expect_eq "ps -n 5: all there are (two)" "$(printf '%s\n' "$lid" "$(v inspect -f '{{.Id}}' plain)" | sort | tr '\n' ' ')" \
	"$(v ps -q -n 5 --no-trunc | sort | tr '\n' ' ')"
out=$(v ps -n 0 2>&1); rc=$?
expect_match "ps -n 0: refused" "^vmm: error: --last 0: a number of containers" "$out"
out=$(v ps -a -s --filter name=plain --format '{{.Size}}')
expect_match "ps -s: the container's own disk, and virtual with its image" '^[0-9.]+[kMG]?B \(virtual [0-9.]+[kMG]?B\)$' "$out"
sizes=$(python3 -c '
import re, sys
def b(s):
    m = re.fullmatch(r"([0-9.]+)([kMG]?)B", s)
    return float(m[1]) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[m[2]]
own, virt = re.fullmatch(r"(\S+) \(virtual (\S+)\)", sys.argv[1]).groups()
img = b(sys.argv[2])
print("ok" if b(own) > 0 and b(virt) >= img * 0.99 and b(virt) >= b(own) else "%s %s %s" % (own, virt, img))' "$out" "$(v images --format '{{.Size}}' busybox)" 2>&1)
expect_eq "ps -s: virtual is at least the image's size" "ok" "$sizes"
expect_match "ps -s: the SIZE column" "NAMES +SIZE$" "$(v ps -a -s | head -1)"
v rm plain >/dev/null
expect_eq "create -l/--label: inspect shows them (a bare KEY has an empty value)" "map[a:b c:]" \
	"$(v inspect -f '{{.Config.Labels}}' "$lid")"
out=$(v create -l =x busybox true 2>&1); rc=$?
expect_match "a label without a key is refused" "^vmm: error: bad label '=x'" "$out"
v rm "$lid" >/dev/null

# generate systemd: a unit that starts a container at boot, checked by systemd's own parser
v create --name unit1 --restart always busybox true >/dev/null
out=$(cd "$T" && "$VMM" generate systemd --name --files unit1); rc=$?
expect_eq "generate systemd --files: writes container-NAME.service, prints its path" "0 $T/container-unit1.service" "$rc $out"
expect_eq "generate systemd: vmm start/stop, and Restart=no (the container restarts itself)" \
	"ExecStart=$VMM start unit1|ExecStop=$VMM stop -t 10 unit1|Restart=no" \
	"$(grep -E '^(ExecStart|ExecStop|Restart)=' "$T/container-unit1.service" | sort | tr '\n' '|' | sed 's/|$//')"
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify "$T/container-unit1.service" 2>&1); rc=$?
	expect_eq "generate systemd: systemd-analyze verify finds nothing to say" "0 " "$rc $out"
else
	skip "generate systemd: systemd-analyze verify" "systemd-analyze not installed"
fi
out=$(v generate systemd --restart-policy sometimes unit1 2>&1); rc=$?
expect_match "generate systemd --restart-policy: a bad one, exit 125" "^125 vmm: error: --restart-policy sometimes" "$rc $out"
v rm unit1 >/dev/null
