#!/bin/sh
# vmm run -v/--mount/--tmpfs/--volumes-from: host folders and volumes in real
# guests over virtio-fs. Bad input first (refused before any VM, on any host);
# one detached container then serves most checks, to keep boots few.
. tests/integration/lib.sh

export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
RUN_TIMEOUT=${RUN_TIMEOUT:-400}
v() { timeout "$RUN_TIMEOUT" "$VMM" "$@"; }
cleanup_hook() {
	for id in $("$VMM" ps -aq 2>/dev/null); do "$VMM" rm -f "$id" >/dev/null 2>&1; done
}
if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	fail "volumes: busybox image" "$(tail -2 "$T/img.log")"
	exit 0
fi
nothing_left() { echo "$(ls "$VMM_ROOT/containers" 2>/dev/null | grep -vc '^\.') $(v volume ls -q | wc -l)"; }

# --- bad input: one clear line, exit 125, nothing created or lost ------------
bad() {	# NAME WANT ARGS...
	name=$1; want=$2; shift 2
	before=$(nothing_left)
	out=$(v run --rm "$@" busybox true 2>&1); rc=$?
	expect_eq "bad input: $name" "125 $want" "$rc $out"
	expect_eq "bad input: $name: nothing created" "$before" "$(nothing_left)"
}
bad "a relative host path" "vmm: error: create ./src: \"./src\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path (see 'vmm run --help')" -v ./src:/src
bad "mode :rx" "vmm: error: invalid mode: rx (in '$T/a:/b:rx'; use ro or rw) (see 'vmm run --help')" -v "$T/a:/b:rx"
bad "a relative target" "vmm: error: invalid mount config for '$T:ctr': mount path 'ctr' must be absolute (see 'vmm run --help')" -v "$T:ctr"
bad "--mount without a target" "vmm: error: invalid mount config: target is required in 'type=bind,source=$T' (see 'vmm run --help')" --mount "type=bind,source=$T"
bad "--mount of a missing folder" "vmm: error: invalid mount config for type \"bind\": bind source path does not exist: $T/missing" --mount "type=bind,source=$T/missing,target=/x"
bad "a file, not a folder" "vmm: error: bind source /etc/hostname is not a folder: vmm shares folders with the VM (mount its folder instead)" -v /etc/hostname:/x
bad "the same target twice" "vmm: error: Duplicate mount point: /x" -v "$T:/x" --tmpfs /x
bad "a volume option on --mount" "vmm: error: volume-opt=size=1g: give it when making the volume: vmm volume create --opt size=1g v9" --mount "source=v9,target=/x,volume-opt=size=1g"
bad "--volumes-from an unknown container" "vmm: error: --volumes-from: no such container: nosuch" --volumes-from nosuch
check "bad input: -v did not create its folder for a refused run" test ! -e "$T/a"

cc=musl-gcc
command -v musl-gcc >/dev/null || cc=cc
if ! have_kvm; then
	skip "volumes: guests" "/dev/kvm not accessible on this host"
	exit 0
fi

# --- one container, many mounts ----------------------------------------------
mkdir -p "$T/bind/sub/deeper" "$T/ro" "$T/bind/pub"
chmod 1777 "$T/bind/pub"
for size in 0 1 4095 4096 65537 1048576 20971520; do head -c $size /dev/urandom > "$T/bind/f$size"; done
head -c 7000 /dev/urandom > "$T/bind/sub/deeper/nested"
chmod 640 "$T/bind/f1"; chmod 755 "$T/bind/f4096"
ln -s sub/deeper/nested "$T/bind/link"
echo "read only" > "$T/ro/file"
id=$(v run -d --name vols -v "$T/bind:/bind" -v "$T/ro:/ro:ro" -v data:/data \
	--mount type=tmpfs,target=/small,tmpfs-size=1m --tmpfs /scratch:size=2m,mode=1770 busybox sleep 3600 2>&1)
expect_match "run -d with bind, ro bind, named volume and tmpfs mounts" "^[0-9a-f]{64}$" "$id"

sums() { (cd "$1" && find . -type f | sort | xargs md5sum); }
expect_eq "bind host -> guest: a tree of 0 B to 20 MB files, byte for byte" "$(sums "$T/bind")" \
	"$(v exec vols sh -c 'cd /bind && find . -type f | sort | xargs md5sum')"
expect_eq "bind: modes as on the host" "$(stat -c %a "$T/bind/f1") $(stat -c %a "$T/bind/f4096")" \
	"$(v exec vols stat -c %a /bind/f1 /bind/f4096 | tr '\n' ' ' | sed 's/ $//')"
expect_eq "bind: a relative symlink resolves inside" "$(md5sum < "$T/bind/sub/deeper/nested")" "$(v exec vols sh -c 'md5sum < /bind/link')"
v exec vols sh -c 'mkdir -p /bind/out/x && head -c 3000000 /dev/urandom > /bind/out/x/blob && md5sum < /bind/out/x/blob > /bind/out/sum && ln -s x/blob /bind/out/l && chmod 600 /bind/out/sum'
expect_eq "bind guest -> host: a new tree arrives byte for byte" "$(cat "$T/bind/out/sum" 2>&1)" "$(md5sum < "$T/bind/out/x/blob" 2>&1)"
expect_eq "bind guest -> host: symlink and mode kept" "x/blob 600" "$(readlink "$T/bind/out/l") $(stat -c %a "$T/bind/out/sum")"
expect_eq "bind: files the container's root makes belong to root on the host (vmm runs as root)" "0:0" \
	"$(stat -c %u:%g "$T/bind/out/x/blob")"
v exec -u 1000:1001 vols sh -c 'echo mine > /bind/pub/owned'
expect_eq "bind: a file made as -u 1000:1001 belongs to 1000:1001 on the host" "1000:1001" \
	"$(stat -c %u:%g "$T/bind/pub/owned" 2>&1)"

# Guest -> host, a tree like the one above: nested folders, 0 B to 20 MB files (bytes from
# the host's random files, at other offsets), modes and symlinks. One listing script runs on
# both sides: path, type, mode, and the link's target or the file's md5.
cat > "$T/bind/list.sh" <<'EOF'
cd "$1" && find . | sort | while read -r f; do
	if [ -L "$f" ]; then echo "$f link $(readlink "$f")"
	elif [ -d "$f" ]; then echo "$f dir $(stat -c %a "$f")"
	else echo "$f file $(stat -c %a "$f") $(md5sum < "$f")"; fi
done
EOF
v exec vols sh -c 'set -e; o=/bind/gtree; mkdir -p $o/a/b/c $o/e
	: > $o/empty; dd if=/bind/f65537 of=$o/one bs=1 count=1 skip=7 2>/dev/null
	dd if=/bind/f1048576 of=$o/a/f4095 bs=4095 count=1 skip=3 2>/dev/null
	dd if=/bind/f1048576 of=$o/a/b/f65537 bs=65537 count=1 skip=2 2>/dev/null
	tail -c +5 /bind/f1048576 > $o/a/b/c/f1m; cat /bind/f20971520 /bind/f4095 > $o/e/f20m
	ln -s a/b/c/f1m $o/rel; ln -s /nowhere $o/dangling
	chmod 640 $o/one; chmod 755 $o/a/f4095; chmod 600 $o/e/f20m; chmod 700 $o/a/b
	sh /bind/list.sh $o' > "$T/gtree.guest" 2>&1
expect_eq "bind guest -> host: a tree of 0 B to 20 MB files, folders, modes, symlinks, byte for byte" \
	"$(cat "$T/gtree.guest")" "$(sh "$T/bind/list.sh" "$T/bind/gtree" 2>&1)"
expect_match "bind guest -> host: the listing saw the 20 MB file" "^./e/f20m file 600 " "$(cat "$T/gtree.guest")"
expect_eq ":ro: the guest reads" "read only" "$(v exec vols cat /ro/file)"
out=$(v exec vols sh -c 'echo x > /ro/new' 2>&1); rc=$?
expect_match ":ro: writes are refused" "Read-only file system" "$out"
check ":ro: nothing created on the host" test ! -e "$T/ro/new"
v exec vols sh -c 'echo persisted > /data/file; sync'
expect_eq "named volume: on the host in the store" "persisted" "$(cat "$VMM_ROOT/volumes/data/_data/file" 2>&1)"
# dd reports the write's errno (busybox head says only "I/O error" for any failed write)
out=$(v exec vols sh -c 'dd if=/dev/zero of=/small/big bs=64k count=32' 2>&1); rc=$?
expect_match "--mount type=tmpfs,tmpfs-size=1m: a 2 MB write fails" "No space left on device" "$out"
expect_eq "--mount type=tmpfs,tmpfs-size=1m: the file fills exactly its 1 MiB" 1048576 "$(v exec vols stat -c %s /small/big)"
expect_match "--tmpfs: a tmpfs in the guest" "^tmpfs /scratch tmpfs" "$(v exec vols grep ' /scratch ' /proc/mounts)"
expect_eq "--tmpfs /scratch:size=2m,mode=1770: its size and mode" "2048 1770" \
	"$(v exec vols sh -c 'echo $(df -k /scratch | tail -1 | awk "{print \$2}") $(stat -c %a /scratch)')"
inspect=$(v inspect vols)
expect_eq "inspect: Mounts as docker shows them (--mount type=tmpfs is one, --tmpfs is not)" "bind:$T/bind:/bind:true bind:$T/ro:/ro:false volume:$VMM_ROOT/volumes/data/_data:/data:true tmpfs::/small:true" \
	"$(echo "$inspect" | jq -r '[.[0].Mounts[] | "\(.Type):\(.Source):\(.Destination):\(.RW)"] | join(" ")')"
expect_eq "inspect: --tmpfs in HostConfig.Tmpfs" '{"/scratch":"size=2m,mode=1770"}' "$(echo "$inspect" | jq -c '.[0].HostConfig.Tmpfs')"
out=$(v volume rm data 2>&1); rc=$?
expect_eq "volume rm of a volume in use is refused, naming the container" "125 vmm: error: remove data: volume is in use - [$(echo "$id" | cut -c1-12)]" "$rc $out"

# --volumes-from: the same folders, read-only when asked.
# (the same shares' shape as vols: the snapshot that vols saved serves this run)
out=$(v --log-level info run --rm --volumes-from vols:ro busybox sh -c 'cat /data/file; cat /bind/f0 | wc -c; echo x > /data/no' 2>&1)
expect_match "--volumes-from: the other container's volume" "^persisted" "$(echo "$out" | grep -v '^vmm: ')"
expect_match "warm start with shared folders: the run restored a snapshot" "restored snapshot [0-9a-f]{12}" "$out"
expect_match "--volumes-from CTR:ro: read-only" "Read-only file system" "$out"

# A root process in the guest tries to reach host files through the bind mount.
mkdir -p "$T/outside"; echo "host secret" > "$T/outside/key"
out=$(v exec vols sh -c "
	mknod /bind/sda b 8 0 2>/dev/null && echo MKNOD-OK || echo mknod-refused
	ln -s '$T/outside' /bind/outlink; { echo pwned > /bind/outlink/new; } 2>/dev/null && echo WROTE-OUT
	cat /bind/outlink/key 2>/dev/null || echo no-key
	ln -s ../../../../../../../../../..'$T/outside' /bind/dotdot; cat /bind/dotdot/key 2>/dev/null || echo no-dotdot
	ln /etc/passwd /bind/hard 2>/dev/null && echo HARDLINK-OK || echo hardlink-refused
	mkfifo /bind/fifo && { echo through-fifo > /bind/fifo & cat /bind/fifo; wait; }
	wc -c < /bind/f4096" 2>&1)
expect_eq "hostile guest: mknod, symlinks out (absolute and ..), a hardlink to a guest file, a FIFO" \
	"mknod-refused no-key no-dotdot hardlink-refused through-fifo 4096" "$(echo $out)"
check "hostile guest: no device node on the host" test ! -e "$T/bind/sda"
check "hostile guest: nothing written outside the share" test ! -e "$T/outside/new"
expect_eq "hostile guest: the host file outside is untouched" "host secret" "$(cat "$T/outside/key")"
# open_by_handle_at ("shocker"): forged FUSE file handles, among them the outside file's host inode
if $cc -static -Os -o "$T/handle-probe" tests/helpers/handle-probe.c 2>"$T/cc.log" &&
	"$VMM" cp "$T/handle-probe" vols:/handle-probe >/dev/null 2>&1; then
	out=$(v exec vols /handle-probe /bind /bind/f1 "$(stat -c %i "$T/outside/key")" 2>&1)
	expect_match "hostile guest: open_by_handle_at with forged handles reaches no host file" \
		"^inside-(ok|refused) forged-refused$" "$(echo $out)"
else
	fail "hostile guest: build and copy the handle-probe helper" "$(tail -2 "$T/cc.log")"
fi

# docker copies the image's content into a new, empty volume: named, or the image's VOLUME.
mkdir -p "$T/seed/data/sub" "$T/seed/other"
echo seed > "$T/seed/data/f"; echo two > "$T/seed/data/f2"; echo nested > "$T/seed/data/sub/n"
chmod 600 "$T/seed/data/sub/n"; echo other > "$T/seed/other/g"
printf 'FROM busybox\nCOPY data /data\nCOPY other /other\nVOLUME /other\n' > "$T/seed/Dockerfile"
if v build -q -t seeded "$T/seed" >"$T/seed.log" 2>&1; then
	out=$(v run --rm -v seedvol:/data seeded sh -c 'cat /data/f /data/sub/n /other/g; rm /data/f2' 2>&1)
	expect_eq "copy-up: a new named volume and the image's VOLUME get the image's files" \
		"seed nested other" "$(echo $out)"
	expect_eq "copy-up: on the host, with the image's modes" "seed 600" \
		"$(cat "$VMM_ROOT/volumes/seedvol/_data/f" 2>&1) $(stat -c %a "$VMM_ROOT/volumes/seedvol/_data/sub/n" 2>&1)"
	out=$(v run --rm --read-only -v seedvol:/data -v nc:/other:nocopy -v seedvol:/data-ro:ro --tmpfs /t seeded sh -c \
		'ls /data; ls -A /other | wc -l; touch /data/w && echo vol-rw; touch /r 2>/dev/null || echo root-ro
		 touch /t/x && echo tmpfs-rw; touch /data-ro/x 2>/dev/null || echo vol-ro' 2>&1)
	expect_eq "copy-up: a volume with data is not filled again; nocopy leaves a new one empty" \
		"f sub 0" "$(echo $out | cut -d' ' -f1-3)"
	expect_eq "--read-only: the root refuses writes, a volume and a tmpfs take them, NAME:/x:ro refuses" \
		"vol-rw root-ro tmpfs-rw vol-ro" "$(echo $out | cut -d' ' -f4-)"
	v volume rm seedvol nc >/dev/null
else
	fail "copy-up: build the image" "$(tail -2 "$T/seed.log")"
fi

# A named volume keeps fsync'd data across a kill -9 of the VMM and a new container.
v run -d --name writer -v keep:/keep busybox sh -c 'i=0; while :; do i=$((i+1)); echo $i >> /keep/log; fsync /keep/log 2>/dev/null || sync; echo $i > /keep/last; sync; done' >/dev/null
written() {	# the last count the guest synced, as the host reads it (0 before any)
	n=$(cat "$VMM_ROOT/volumes/keep/_data/last" 2>/dev/null)
	case $n in '' | *[!0-9]*) echo 0 ;; *) echo "$n" ;; esac
}
i=0	# until the guest has synced a few dozen lines
while [ "$(written)" -lt 30 ] && [ $i -lt 3000 ]; do i=$((i + 1)); sleep 0.1; done
pid=$(v inspect -f '{{.State.Pid}}' writer 2>/dev/null || v inspect writer | jq -r '.[0].State.Pid')
# the guest rewrites the file in place: a read between its truncate and its write finds it empty
i=0; last=0; while [ "$last" -eq 0 ] && [ $i -lt 100 ]; do i=$((i + 1)); last=$(written); done
kill -9 "$pid" 2>/dev/null
out=$(v run --rm -v keep:/keep busybox sh -c "tail -n +$last /keep/log | head -1" 2>&1)
expect_eq "named volume: data written before a kill -9 is there for the next container" "$last" "$out"
v rm -f writer >/dev/null 2>&1

# A volume of a size: its ext4 disk is mounted on _data at the first use; full, the guest gets
# ENOSPC (fallocate asks the host's ext4 for the space at once); rm unmounts and frees it.
v volume create --opt size=24m sized >/dev/null
out=$(v run --rm -v sized:/s busybox sh -c 'ls -A /s | wc -l; fallocate -l 64M /s/big; rm -f /s/big
	echo kept > /s/f; df -k /s | tail -1 | awk "{print \$2}"' 2>&1)
expect_eq "volume create --opt size=24m: empty at first, ENOSPC past its size" \
	"0 fallocate: fallocate '/s/big': No space left on device" "$(echo $out | cut -d' ' -f1-9)"
check "volume create --opt size=24m: the guest sees about 24 MiB" test "$(echo $out | cut -d' ' -f10)" -lt 24577
expect_eq "volume --opt size: its disk is mounted on _data, the data on it" "ext4 kept" \
	"$(awk -v d="$VMM_ROOT/volumes/sized/_data" '$2 == d { print $3 }' /proc/mounts) $(cat "$VMM_ROOT/volumes/sized/_data/f" 2>&1)"
v volume rm sized >/dev/null
expect_eq "volume rm of a sized volume: unmounted, its loop device freed, gone" "0 0 gone" \
	"$(grep -c "$VMM_ROOT/volumes/sized" /proc/mounts) $(losetup -a | grep -c "$VMM_ROOT/volumes/sized") $(test -e "$VMM_ROOT/volumes/sized" || echo gone)"

# rm -v and --rm take anonymous volumes; named ones stay.
v run --rm -v /anon busybox true
expect_eq "--rm removes the anonymous volume" "data keep" "$(v volume ls -q | tr '\n' ' ' | sed 's/ $//')"
v rm -f vols >/dev/null
expect_eq "named volumes outlive their containers" "data keep" "$(v volume ls -q | tr '\n' ' ' | sed 's/ $//')"
expect_eq "no virtiofsd left" 0 "$(pgrep -fc "virtiofsd.*$T" || true)"
