#!/bin/sh
# Run a command where /dev/kvm works, on a host that has none.
#
# Usage: scripts/tcg-kvm.sh COMMAND [ARG...]
#        scripts/tcg-kvm.sh --prepare      (fetch and cache the kernel only; exit 0 when ready)
#
# A test harness, not part of vmm. Some hosts give no /dev/kvm at all (a PVM kernel that is
# itself a PVM guest, docs/host-pvm.md). There, qemu's TCG emulates a CPU with AMD-V
# (`-cpu max` has svm and npt), Debian's own kernel boots on it, kvm_amd loads, and vmm's
# guests run nested inside. COMMAND runs in that VM, as root, in the current directory:
#   - the host's / is seen read-only, under a tmpfs overlay (writes are lost at the end);
#   - the current directory is shared read-write at the same path (cached in the VM: do not
#     rebuild in it while the VM runs, whose processes may keep seeing the old files);
#   - /tmp, /run and /dev/shm are fresh tmpfs; lo is up; kvm_amd, tun, vhost_vsock and loop loaded.
# Its output streams here and its exit status is this script's. Nothing of the host but the
# current directory is written.
#
# The VM's kernel is Debian's linux-image package (apt-get download), cached with its
# initramfs in ${TCG_KVM_CACHE:-~/.cache/vmm/tcg-kvm}. Knobs: TCG_KVM_MEM (default 12G),
# TCG_KVM_CPUS (default: the host's), TCG_KVM_TIMEOUT (seconds, default 5400).
set -eu

[ $# -gt 0 ] || { echo "usage: scripts/tcg-kvm.sh COMMAND [ARG...] | --prepare" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || {
	echo "tcg-kvm: qemu-system-x86_64 not found: install qemu-system-x86" >&2; exit 2; }
[ -x /bin/busybox ] && /bin/busybox --list | grep -qx insmod || {
	echo "tcg-kvm: /bin/busybox (static) not found: install busybox-static" >&2; exit 2; }

CACHE=${TCG_KVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmm/tcg-kvm}
WORK=$(pwd -P)
case "$WORK" in *[[:space:]]*) echo "tcg-kvm: the current directory has a space: $WORK" >&2; exit 2 ;; esac

# The kernel package, fetched and unpacked once.
kernel_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1; }
pkg=$(kernel_pkg)
if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
	apt-get update -qq >/dev/null 2>&1 && pkg=$(kernel_pkg)
fi
[ -n "$pkg" ] || { echo "tcg-kvm: apt knows no linux-image-amd64: run apt-get update" >&2; exit 2; }
kver=${pkg#linux-image-}
K=$CACHE/$kver
if [ ! -f "$K/ird/mods/order" ]; then
	echo "tcg-kvm: preparing $pkg in $K" >&2
	rm -rf "$K" && mkdir -p "$K/deb" "$K/ird/bin" "$K/ird/mods"
	(cd "$K/deb" && apt-get download -q "$pkg" >/dev/null)
	dpkg-deb -x "$K"/deb/*.deb "$K/root"
	rm -rf "$K/deb"
	depmod -b "$K/root" "$kver"
	# The initramfs: static busybox, the 9p and overlay modules in load order, and /init.
	cp /bin/busybox "$K/ird/bin/busybox"
	for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
		 9pnet 9pnet_virtio netfs fscache 9p overlay; do
		f=$(find "$K/root/lib/modules/$kver" -name "$m.ko*" | head -n1)
		if [ -n "$f" ]; then cp "$f" "$K/ird/mods/" && echo "$(basename "$f")" >> "$K/ird/mods/order"; fi
	done
fi
# /init, rewritten each time: the initramfs is made again when it changed.
cat > "$K/ird/init.new" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do insmod /mods/$m 2>/dev/null; done
fail() { echo "tcg-kvm init: $*"; echo o > /proc/sysrq-trigger; sleep 60; }
mkdir -p /h /run9 /up /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 run /run9 || fail "no run share"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro hostroot /h || fail "no host root"
mount -t tmpfs -o size=16g tmpfs /up && mkdir -p /up/u /up/w
mount -t overlay overlay -o lowerdir=/h,upperdir=/up/u,workdir=/up/w /newroot || fail "no overlay"
R=/newroot
mount -t tmpfs -o size=8g tmpfs $R/tmp; mount -t tmpfs tmpfs $R/run
mkdir -p $R/run/tcg-kvm && mount --move /run9 $R/run/tcg-kvm
work=$(cat $R/run/tcg-kvm/workdir)
mkdir -p "$R$work" && mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose work "$R$work" || fail "no work share"
kver=$(cat $R/run/tcg-kvm/kver)
mkdir -p $R/lib/modules/$kver && mount --bind /h/$(cat $R/run/tcg-kvm/modules) $R/lib/modules/$kver
mount --move /proc $R/proc; mount --move /sys $R/sys; mount --move /dev $R/dev
# switch_root, not chroot: a process chrooted may not make a user namespace (unshare(2))
exec switch_root $R /bin/sh /run/tcg-kvm/inner.sh
EOF
if [ ! -f "$K/initrd.gz" ] || ! cmp -s "$K/ird/init.new" "$K/ird/init"; then
	mv "$K/ird/init.new" "$K/ird/init" && chmod +x "$K/ird/init"
	mkdir -p "$K/ird/proc" "$K/ird/sys" "$K/ird/dev"
	(cd "$K/ird" && find . ! -name init.new | cpio -o -H newc --quiet | gzip -1) > "$K/initrd.gz.tmp"
	mv "$K/initrd.gz.tmp" "$K/initrd.gz"
fi
[ "$1" != --prepare ] || exit 0

RUN=$(mktemp -d /tmp/tcg-kvm.XXXXXX)
trap 'rm -rf "$RUN"' EXIT
echo "$WORK" > "$RUN/workdir"
echo "$kver" > "$RUN/kver"
echo "$K/root/lib/modules/$kver" > "$RUN/modules"
: > "$RUN/out"
# The command, quoted, and the caller's environment (less what belongs to this shell).
{
	export -p | grep -Ev '^export (PWD|OLDPWD|SHLVL|_|TMPDIR|XDG_RUNTIME_DIR)='
	printf 'cd %s\n' "$WORK"
	printf 'exec'; for a in "$@"; do printf " '%s'" "$(printf %s "$a" | sed "s/'/'\\\\''/g")"; done; echo
} > "$RUN/cmd.sh"
cat > "$RUN/inner.sh" <<'EOF'
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mkdir -p /dev/pts /dev/shm
ln -sf /proc/self/fd /dev/fd; ln -sf fd/0 /dev/stdin; ln -sf fd/1 /dev/stdout; ln -sf fd/2 /dev/stderr
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts 2>/dev/null && ln -sf pts/ptmx /dev/ptmx
mount -t tmpfs tmpfs /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ip link set lo up
exec > /run/tcg-kvm/out 2>&1 < /dev/null
for m in kvm_amd tun vhost_vsock loop; do modprobe $m || echo "tcg-kvm: modprobe $m failed"; done
[ -c /dev/kvm ] || echo "tcg-kvm: /dev/kvm did not appear in the VM"
# as a Debian host with udev has it (its rule: GROUP="kvm", MODE="0660"); the group is made in
# the VM's overlay when the host has none
getent group kvm >/dev/null || groupadd -r kvm
chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
sh /run/tcg-kvm/cmd.sh
echo $? > /run/tcg-kvm/rc
sync
echo o > /proc/sysrq-trigger
EOF

cpus=${TCG_KVM_CPUS:-$(nproc)}
timeout -s KILL "${TCG_KVM_TIMEOUT:-5400}" qemu-system-x86_64 -accel tcg,thread=multi -cpu max \
	-smp "$cpus" -m "${TCG_KVM_MEM:-12G}" \
	-kernel "$K/root/boot/vmlinuz-$kver" -initrd "$K/initrd.gz" \
	-append "console=ttyS0 quiet panic=-1 sysrq_always_enabled=1" \
	-display none -serial file:"$RUN/console" -monitor none -no-reboot \
	-virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap \
	-virtfs local,path="$WORK",mount_tag=work,security_model=passthrough,multidevs=remap \
	-virtfs local,path="$RUN",mount_tag=run,security_model=passthrough,multidevs=remap &
qpid=$!
tail -f --pid=$qpid "$RUN/out" &
tpid=$!
wait $qpid || true
wait $tpid 2>/dev/null || true
if [ ! -f "$RUN/rc" ]; then
	echo "tcg-kvm: the VM ended before the command did; its console:" >&2
	tail -n 30 "$RUN/console" >&2
	exit 125
fi
exit "$(cat "$RUN/rc")"
