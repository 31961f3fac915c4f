#!/bin/sh
# libvirt domain XML (vmm domain), checked by libvirt's own tools: what vmm writes
# passes virt-xml-validate and `virsh define` (test driver), and what virsh
# writes back defines into vmm with the same result. No guest is booted here.
. tests/integration/lib.sh

for tool in virsh virt-xml-validate; do
	if ! command -v $tool >/dev/null 2>&1; then
		skip "domain" "$tool not installed (scripts/install-deps.sh: libvirt-clients)"
		exit 0
	fi
done

export VMM_ROOT="$T/root"
v() { "$VMM" "$@"; }
# virsh on libvirt's in-memory test driver: no daemon, nothing left behind.
tvirsh() { virsh -q -c test:///default "$@" 2>&1; }
# The <domain> element of virsh's output (its own messages stripped).
domain_xml() { sed -n '/^<domain/,/^<\/domain>/p'; }

cat > "$T/demo.xml" <<XML
<domain type='kvm'>
  <name>demo</name>
  <memory unit='MiB'>256</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$KERNEL</kernel>
    <initrd>$T/initrd.cpio</initrd>
    <cmdline>quiet loglevel=3</cmdline>
    <boot dev='hd'/>
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$T/disk &amp; more.qcow2'/>
      <backingStore type='file'>
        <format type='raw'/>
        <source file='$T/base.img'/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='$T/data.img'/>
      <target dev='vdb' bus='virtio'/>
      <readonly/>
      <serial>DATA1</serial>
    </disk>
    <interface type='user'>
      <mac address='52:54:00:12:34:56'/>
      <portForward proto='tcp'>
        <range start='8080' to='80'/>
        <range start='9000' end='9002'/>
      </portForward>
      <model type='virtio'/>
    </interface>
    <filesystem type='mount' accessmode='passthrough'>
      <driver type='virtiofs'/>
      <source dir='$T/shared'/>
      <target dir='data'/>
      <readonly/>
    </filesystem>
    <serial type='file'><source path='$T/console.log'/><target port='0'/></serial>
    <vsock model='virtio'><cid auto='no' address='5'/></vsock>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
    <memballoon model='none'/>
  </devices>
  <metadata>
    <vmm:container xmlns:vmm='https://vmm.dev/xmlns/container/1'><vmm:image>busybox:latest</vmm:image></vmm:container>
  </metadata>
</domain>
XML

out=$(v domain define "$T/demo.xml" 2>&1)
expect_eq "define: virsh's message" "Domain 'demo' defined from $T/demo.xml" "$(echo "$out" | head -1)"
check "define: kept in the store" test -f "$VMM_ROOT/domains/demo.xml"
expect_eq "define: the definition is private" "600" "$(stat -c %a "$VMM_ROOT/domains/demo.xml")"
expect_eq "list --all: virsh's table" " Id   Name   State
-----------------------
 -    demo   shut off" "$(v domain list --all | sed '/^$/d')"
expect_eq "list --all --name" "demo" "$(v domain list --all --name | sed '/^$/d')"
expect_eq "list: nothing running" " Id   Name   State
--------------------" "$(v domain list | sed '/^$/d')"

v domain dumpxml demo > "$T/vmm.xml"
check "dumpxml: passes virt-xml-validate" virt-xml-validate "$T/vmm.xml" domain
expect_match "dumpxml: memory in KiB as libvirt writes it" "<memory unit=\"KiB\">262144</memory>" "$(cat "$T/vmm.xml")"
expect_match "dumpxml: a UUID was given" "<uuid>[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}</uuid>" "$(cat "$T/vmm.xml")"
expect_match "dumpxml: escaped path kept" "disk &amp; more.qcow2" "$(cat "$T/vmm.xml")"
expect_match "dumpxml: metadata kept" "<vmm:image>busybox:latest</vmm:image>" "$(cat "$T/vmm.xml")"
expect_match "dumpxml: second disk read-only with its serial" "<readonly/>[[:space:]]*<serial>DATA1</serial>" "$(tr -d '\n' < "$T/vmm.xml")"
expect_match "dumpxml: port range" "<range start=\"9000\" end=\"9002\"/>" "$(cat "$T/vmm.xml")"
expect_match "dumpxml: a read-only virtio-fs share, guest RAM shared for it" \
	"<access mode=\"shared\"/>.*<filesystem type=\"mount\" accessmode=\"passthrough\"> *<driver type=\"virtiofs\"/> *<source dir=\"$T/shared\"/> *<target dir=\"data\"/> *<readonly/>" \
	"$(tr -d '\n' < "$T/vmm.xml")"

# libvirt accepts what vmm writes, and vmm accepts what libvirt writes back.
tvirsh "define $T/vmm.xml; dumpxml demo" | domain_xml > "$T/virsh.xml"
check "virsh define accepts vmm's XML" grep -q "<name>demo</name>" "$T/virsh.xml"
check "virsh's XML passes virt-xml-validate" virt-xml-validate "$T/virsh.xml" domain
out=$(v domain define "$T/virsh.xml" 2>&1)
expect_eq "virsh's XML defines into vmm (same name and UUID)" "Domain 'demo' defined from $T/virsh.xml" "$(echo "$out" | head -1)"
v domain dumpxml demo > "$T/vmm2.xml"
check "round trip: vmm -> virsh -> vmm gives the same definition" cmp "$T/vmm.xml" "$T/vmm2.xml"
uuid=$(sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' "$T/vmm.xml")
expect_eq "virsh kept the UUID" "$uuid" "$(sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' "$T/virsh.xml")"

# A domain as a libvirt user has it (virt-install's direct kernel boot, with
# the devices libvirt adds), written out by libvirt itself, defines into vmm.
cat > "$T/lv-src.xml" <<XML
<domain type='kvm'>
  <name>from-libvirt</name>
  <memory unit='GiB'>1</memory>
  <currentMemory unit='MiB'>512</currentMemory>
  <vcpu placement='static' current='1'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <kernel>$KERNEL</kernel>
    <cmdline>console=ttyS0</cmdline>
  </os>
  <features><acpi/><apic/><vmport state='off'/></features>
  <cpu mode='host-passthrough' check='none' migratable='on'/>
  <clock offset='utc'><timer name='rtc' tickpolicy='catchup'/><timer name='hpet' present='no'/></clock>
  <pm><suspend-to-mem enabled='no'/><suspend-to-disk enabled='no'/></pm>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='$T/root.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>
    <controller type='usb' index='0' model='qemu-xhci' ports='15'/>
    <controller type='pci' index='0' model='pcie-root'/>
    <interface type='user'>
      <mac address='52:54:00:6b:3c:58'/>
      <model type='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
    <console type='pty'><target type='serial' port='0'/></console>
    <input type='mouse' bus='ps2'/>
    <input type='keyboard' bus='ps2'/>
    <memballoon model='virtio'/>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>
XML
tvirsh "define $T/lv-src.xml; dumpxml from-libvirt" | domain_xml > "$T/lv.xml"
check "virsh writes the libvirt user's domain" grep -q "<name>from-libvirt</name>" "$T/lv.xml"
out=$(v domain define "$T/lv.xml" 2>&1); rc=$?
expect_eq "libvirt-written XML defines (cpu, clock, pm, controllers, input, balloon passed over)" \
	"0 Domain 'from-libvirt' defined from $T/lv.xml" "$rc $(echo "$out" | head -1)"
lv=$(v domain dumpxml from-libvirt | tr -d '\n')
expect_match "libvirt-written XML: 1 GiB, the vCPU online at boot" \
	"<memory unit=\"KiB\">1048576</memory>.*<vcpu placement=\"static\">1</vcpu>" "$lv"
expect_match "libvirt-written XML: disk, user network with its MAC, pty console, rng" \
	"<source file=\"$T/root.qcow2\"/>.*<mac address=\"52:54:00:6b:3c:58\"/>.*<console type=\"pty\">.*<rng model=\"virtio\">" "$lv"

# Redefinition keeps the UUID; another UUID for the same name is refused.
sed "s:</name>:</name><uuid>00000000-0000-4000-8000-000000000001</uuid>:" "$T/demo.xml" > "$T/other-uuid.xml"
out=$(v domain define "$T/other-uuid.xml" 2>&1); rc=$?
expect_eq "define: a second UUID for a name is refused" "125 vmm: error: $T/other-uuid.xml: domain 'demo' already exists with uuid $uuid" "$rc $out"
sed "s:<name>demo</name>:<name>demo2</name><uuid>$uuid</uuid>:" "$T/demo.xml" > "$T/same-uuid.xml"
out=$(v domain define "$T/same-uuid.xml" 2>&1); rc=$?
expect_eq "define: a UUID another domain has is refused" "125 vmm: error: $T/same-uuid.xml: domain 'demo' already has uuid $uuid" "$rc $out"
check "define: define from stdin" sh -c "sed 's:<name>demo</name>:<name>piped</name>:' '$T/demo.xml' | '$VMM' domain define - >/dev/null"

# Bad input: one clear line naming the XPath, exit 125, nothing created or changed.
before=$(ls "$VMM_ROOT/domains" | sort | tr '\n' ' ')
cksum_before=$(cat "$VMM_ROOT"/domains/* | cksum)
bad() {	# NAME SED-EXPR WANT
	sed "$2" "$T/demo.xml" > "$T/bad.xml"
	out=$(v domain define "$T/bad.xml" 2>&1); rc=$?
	expect_eq "bad input: $1" "125 1 vmm: error: $T/bad.xml: $3" "$rc $(echo "$out" | wc -l) $out"
}
bad "PCI passthrough" "s:<memballoon model='none'/>:<hostdev mode='subsystem' type='pci'/>:" \
	"/domain/devices/hostdev: PCI and USB passthrough is not supported by vmm"
bad "a bridge interface" "s:<interface type='user'>:<interface type='bridge'>:" \
	"/domain/devices/interface: interface type not supported by vmm (use 'user' or 'ethernet' with an existing tap device)"
bad "a SATA disk" "s:<target dev='vdb' bus='virtio'/>:<target dev='sdb' bus='sata'/>:" \
	"/domain/devices/disk[2]/target: bus 'sata': vmm has virtio disks only (bus='virtio', dev='vdX')"
bad "firmware boot" "s:<kernel>.*</kernel>:<loader>/usr/share/OVMF/OVMF_CODE.fd</loader>:" \
	"/domain/os/loader: firmware and container boot are not supported: vmm boots a kernel directly (give <kernel> and <initrd>)"
bad "memory unit" "s:<memory unit='MiB'>:<memory unit='furlongs'>:" \
	"/domain/memory: unit 'furlongs' unknown (use KiB, MiB, GiB, ...)"
bad "not XML" "s:</domain>::" "not well-formed XML (line $(($(wc -l < "$T/demo.xml") + 1))): Premature end of data in tag domain line 1"
bad "an entity declaration" "1s:^:<!DOCTYPE domain [<!ENTITY x 'y'>]>:" \
	"domain XML with a <!DOCTYPE> is refused (no DTDs or entities)"
expect_eq "bad input: no domain created or changed" "$before $cksum_before" \
	"$(ls "$VMM_ROOT/domains" | sort | tr '\n' ' ') $(cat "$VMM_ROOT"/domains/* | cksum)"
out=$(v domain define "$T/missing.xml" 2>&1); rc=$?
expect_eq "bad input: a missing file" "125 vmm: error: $T/missing.xml: No such file or directory" "$rc $out"
out=$(v domain dumpxml nosuch 2>&1); rc=$?
expect_eq "dumpxml of an unknown domain" "125 vmm: error: no domain named 'nosuch' (see 'vmm domain list --all')" "$rc $out"
out=$(v domain undefine ../etc 2>&1); rc=$?
expect_eq "undefine: a path is not a name" "125 vmm: error: '../etc' is not a domain name (A-Z a-z 0-9 _ . + -)" "$rc $out"

out=$(v domain undefine demo 2>&1)
expect_eq "undefine: virsh's message" "Domain 'demo' has been undefined" "$(echo "$out" | head -1)"
expect_eq "undefine: gone from the list" "from-libvirt piped" "$(v domain list --all --name | sed '/^$/d' | tr '\n' ' ' | sed 's/ $//')"
out=$(v domain undefine demo 2>&1); rc=$?
expect_eq "undefine twice" "125 vmm: error: no domain named 'demo' (see 'vmm domain list --all')" "$rc $out"

# vmm inspect --format libvirt: a container's VM as domain XML, accepted by libvirt.
export VMM_RUNTIME="$T/run"
if scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	v create --name web -p 8080:80 -e 'X=a<b&c' -v /anon busybox httpd -f >/dev/null
	v inspect --format libvirt web > "$T/ct.xml"; rc=$?
	expect_eq "inspect --format libvirt: exit 0" 0 "$rc"
	check "a container's XML passes virt-xml-validate" virt-xml-validate "$T/ct.xml" domain
	disk=$(v inspect -f '{{.Id}}' web)
	check "the XML names the container's overlay" grep -q "<source file=\"$VMM_ROOT/containers/$disk/disk.qcow2\"/>" "$T/ct.xml"
	base=$(sed -n '/<backingStore/,/<\/backingStore>/s:.*<source file="\(.*\)"/>.*:\1:p' "$T/ct.xml")
	check "and its backing file, the image's base disk, which exists" test -f "$base"
	expect_eq "the backing file is the one the overlay's header names" "$base" \
		"$(v disk info --json "$VMM_ROOT/containers/$disk/disk.qcow2" | sed -n 's/.*"full-backing-filename": *"\([^"]*\)".*/\1/p')"
	expect_match "the volume is a virtio-fs share of its folder" \
		"<filesystem type=\"mount\" accessmode=\"passthrough\"> *<driver type=\"virtiofs\"/> *<source dir=\"$VMM_ROOT/volumes/[0-9a-f]{64}/_data\"/> *<target dir=\"vmmfs0\"/>" \
		"$(tr -d '\n' < "$T/ct.xml")"
	expect_match "the published port is a libvirt port forward" '<range start="8080" to="80"/>' "$(cat "$T/ct.xml")"
	expect_match "the container's facts are vmm metadata (escaped)" \
		'<vmm:image>busybox</vmm:image>.*<vmm:arg>httpd</vmm:arg><vmm:arg>-f</vmm:arg>.*<vmm:var>X=a&lt;b&amp;c</vmm:var>.*<vmm:mount type="volume"' \
		"$(cat "$T/ct.xml")"
	tvirsh "define $T/ct.xml; dumpxml web" | domain_xml > "$T/ct-virsh.xml"
	check "virsh define accepts the container's XML" grep -q "<name>web</name>" "$T/ct-virsh.xml"
	check "virsh kept vmm's metadata" grep -q "<vmm:image>busybox</vmm:image>" "$T/ct-virsh.xml"
	out=$(v domain define "$T/ct-virsh.xml" 2>&1)
	expect_eq "virsh's dump of it defines into vmm" "Domain 'web' defined from $T/ct-virsh.xml" "$(echo "$out" | head -1)"
	check "vmm -> virsh -> vmm: the same XML as the container's" sh -c "'$VMM' domain dumpxml web | cmp - '$T/ct.xml'"
	out=$(v inspect --format libvirt nosuch 2>&1); rc=$?
	expect_eq "inspect --format libvirt of no container" "1 vmm: error: no such container: nosuch" "$rc $out"
	v domain undefine web >/dev/null
	v rm -v web >/dev/null
else
	fail "inspect --format libvirt: busybox image" "$(tail -2 "$T/img.log")"
fi

# --from-libvirt / --to-libvirt: vmm talks to libvirt itself. The libvirtd is the test's own:
# a session daemon whose sockets, state and config are all under $T/lv, with no driver module
# loaded (an empty LIBVIRT_DRIVER_DIR), so only libvirt's built-in test driver answers.
LIBVIRTD=$(command -v libvirtd || echo /usr/sbin/libvirtd)
LV_PID="" LV_HOLD=""
lv_stop() {
	[ -n "$LV_HOLD" ] && { exec 9>&-; wait "$LV_HOLD" 2>/dev/null; }
	[ -n "$LV_PID" ] && { kill "$LV_PID" 2>/dev/null; wait "$LV_PID" 2>/dev/null; }
	LV_PID="" LV_HOLD=""
}
cleanup_hook() { lv_stop; }
# lv_start: libvirtd up and its socket there (at most 30 s). root's libvirtd is always the
# system one (/run/libvirt), so as root the daemon runs as nobody, in session mode.
lv_start() {
	mkdir -p "$T/lv/run" "$T/lv/home" "$T/lv/config" "$T/lv/cache" "$T/lv/drivers"
	as=""
	if [ "$(id -u)" = 0 ]; then
		chmod 711 "$T" && chown -R 65534:65534 "$T/lv" || return 1
		as="setpriv --reuid=65534 --regid=65534 --clear-groups"
	fi
	$as env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$T/lv/home" XDG_RUNTIME_DIR="$T/lv/run" \
		XDG_CONFIG_HOME="$T/lv/config" XDG_CACHE_HOME="$T/lv/cache" \
		LIBVIRT_DRIVER_DIR="$T/lv/drivers" "$LIBVIRTD" >"$T/libvirtd.log" 2>&1 &
	LV_PID=$!
	i=0
	while [ ! -S "$T/lv/run/libvirt/libvirt-sock" ]; do
		i=$((i + 1))
		if [ $i -ge 300 ] || ! kill -0 "$LV_PID" 2>/dev/null; then return 1; fi
		sleep 0.1
	done
}
lv_skip=""
if "$VMM" check 2>/dev/null | grep -Eq '^warn +libvirt +not built in'; then
	for flag in "define --from-libvirt" "export --to-libvirt"; do
		out=$(v domain $flag test:///default demo 2>&1); rc=$?
		expect_match "built without libvirt: domain $flag says so in one line, exit 125" \
			"^125 1 vmm: error: domain $flag: this vmm was built without libvirt \(install libvirt-dev" \
			"$rc $(echo "$out" | wc -l) $out"
	done
	lv_skip="vmm was built without libvirt (scripts/install-deps.sh: libvirt-dev, and rebuild)"
elif [ ! -x "$LIBVIRTD" ]; then
	lv_skip="libvirtd not installed (scripts/install-deps.sh: libvirt-daemon)"
fi
if [ -n "$lv_skip" ]; then
	skip "domain --from-libvirt/--to-libvirt with libvirtd" "$lv_skip"
elif ! lv_start; then
	fail "a private libvirtd starts" "$(tail -3 "$T/libvirtd.log" | tr '\n' ' ')"
else
	LVURI="test+unix:///default?socket=$T/lv/run/libvirt/libvirt-sock"
	# The test driver forgets its domains when its last client leaves: one virsh stays
	# connected (reading commands from a FIFO) until the end, and defines the domains.
	mkfifo "$T/virsh.in"
	virsh -c "$LVURI" <"$T/virsh.in" >"$T/virsh.out" 2>&1 &
	LV_HOLD=$!
	exec 9>"$T/virsh.in"
	sed "s:<name>demo</name>:<name>lvdemo</name>:" "$T/demo.xml" > "$T/lvdemo.xml"
	echo "define $T/lvdemo.xml" >&9
	check "virsh -c URI define: a domain in the private libvirtd" wait_text "$T/virsh.out" "Domain 'lvdemo' defined"
	export VMM_ROOT="$T/lvroot"
	out=$(v domain define --from-libvirt "$LVURI" lvdemo 2>&1); rc=$?
	expect_eq "define --from-libvirt: virsh's message, exit 0" "0 Domain 'lvdemo' defined from $LVURI" "$rc $(echo "$out" | head -1)"
	virsh -c "$LVURI" dumpxml lvdemo > "$T/lvdemo-virsh.xml"
	"$VMM" --root "$T/lvfile" domain define "$T/lvdemo-virsh.xml" >/dev/null
	v domain dumpxml lvdemo > "$T/lvdemo-vmm.xml"
	check "define --from-libvirt: the definition libvirt's XML in a file gives" \
		sh -c "'$VMM' --root '$T/lvfile' domain dumpxml lvdemo | cmp - '$T/lvdemo-vmm.xml'"
	check "define --from-libvirt: libvirt's UUID kept" \
		grep -qF "$(sed -n 's:.*\(<uuid>.*</uuid>\).*:\1:p' "$T/lvdemo-virsh.xml")" "$T/lvdemo-vmm.xml"

	sed "s:<name>demo</name>:<name>lvexport</name>:" "$T/demo.xml" > "$T/lvexport.xml"
	v domain define "$T/lvexport.xml" >/dev/null
	v domain dumpxml lvexport > "$T/lvexport-vmm.xml"
	out=$(v domain export --to-libvirt "$LVURI" lvexport 2>&1); rc=$?
	expect_eq "export --to-libvirt: virsh-like message, exit 0" "0 Domain 'lvexport' defined in $LVURI" "$rc $(echo "$out" | head -1)"
	virsh -c "$LVURI" dumpxml lvexport > "$T/lvexport-virsh.xml" 2>&1
	check "export --to-libvirt: libvirt has the domain" grep -q "<name>lvexport</name>" "$T/lvexport-virsh.xml"
	"$VMM" --root "$T/lvback" domain define "$T/lvexport-virsh.xml" >/dev/null
	check "export --to-libvirt: libvirt's dumpxml of it defines back into vmm the same" \
		sh -c "'$VMM' --root '$T/lvback' domain dumpxml lvexport | cmp - '$T/lvexport-vmm.xml'"

	# Failures: one line naming the flag, the URI and the domain, with libvirt's reason; exit 125.
	bad_lv() {	# NAME WANT-REGEX CMD...
		name=$1 want=$2
		shift 2
		out=$("$@" 2>&1); rc=$?
		expect_match "$name" "^125 1 vmm: error: $want" "$rc $(echo "$out" | wc -l) $out"
	}
	store=$(ls "$VMM_ROOT/domains" | tr '\n' ' ')
	bad_lv "define --from-libvirt: no daemon at the URI" \
		"domain define --from-libvirt: test\+unix:///default\?socket=$T/nosock: Failed to connect socket to '$T/nosock'" \
		"$VMM" domain define --from-libvirt "test+unix:///default?socket=$T/nosock" lvdemo
	bad_lv "define --from-libvirt: a URI libvirt has no driver for" \
		"domain define --from-libvirt: nosuchdriver\+unix:///x\?socket=$T/lv/run/libvirt/libvirt-sock: " \
		"$VMM" domain define --from-libvirt "nosuchdriver+unix:///x?socket=$T/lv/run/libvirt/libvirt-sock" lvdemo
	bad_lv "define --from-libvirt: a name libvirt does not have" \
		"domain define --from-libvirt: test\+unix:///default\?socket=$T/lv/run/libvirt/libvirt-sock: domain 'nosuch': Domain not found" \
		"$VMM" domain define --from-libvirt "$LVURI" nosuch
	# libvirt's XML is checked as a file's is: the test driver's default arch is i686.
	printf '<domain type="kvm"><name>lvi686</name><memory>131072</memory><os><type>hvm</type><kernel>/k</kernel></os></domain>\n' > "$T/lvi686.xml"
	echo "define $T/lvi686.xml" >&9
	wait_text "$T/virsh.out" "Domain 'lvi686' defined"
	bad_lv "define --from-libvirt: what vmm refuses in a file it refuses from libvirt" \
		"test\+unix:///default\?socket=$T/lv/run/libvirt/libvirt-sock: domain 'lvi686': /domain/os/type: arch 'i686': vmm runs x86_64 guests" \
		"$VMM" domain define --from-libvirt "$LVURI" lvi686
	expect_eq "define --from-libvirt: refusals leave the store as it was" "$store" "$(ls "$VMM_ROOT/domains" | tr '\n' ' ')"
	bad_lv "export --to-libvirt: a domain vmm does not have" \
		"no domain named 'nosuch'" "$VMM" domain export --to-libvirt "$LVURI" nosuch
	# The same name with another UUID: libvirt refuses it, as vmm does.
	sed "s:<name>demo</name>:<name>lvdemo</name><uuid>00000000-0000-4000-8000-0000000000aa</uuid>:" "$T/demo.xml" > "$T/lvclash.xml"
	"$VMM" --root "$T/lvclash" domain define "$T/lvclash.xml" >/dev/null
	bad_lv "export --to-libvirt: libvirt's refusal" \
		"domain export --to-libvirt: test\+unix:///default\?socket=$T/lv/run/libvirt/libvirt-sock: domain 'lvdemo': .*already exists with uuid" \
		"$VMM" --root "$T/lvclash" domain export --to-libvirt "$LVURI" lvdemo
	lv_stop
	export VMM_ROOT="$T/root"
fi

# vmm domain run: the definition boots. Bad input first (refused before /dev/kvm).
cat > "$T/nokernel.xml" <<XML
<domain type='kvm'><name>nokernel</name><memory unit='MiB'>128</memory>
<os><type>hvm</type><kernel>$T/missing-vmlinux</kernel></os></domain>
XML
out=$(v domain run "$T/nokernel.xml" 2>&1); rc=$?
expect_eq "run: a missing kernel is one line, exit 125" "125 vmm: error: domain nokernel: kernel $T/missing-vmlinux: No such file or directory" "$rc $out"
v domain define "$T/nokernel.xml" >/dev/null
out=$(v domain start nokernel 2>&1); rc=$?
expect_eq "start: a missing kernel is one line from the background process, exit 125" \
	"125 vmm: error: domain nokernel: kernel $T/missing-vmlinux: No such file or directory" "$rc $out"
expect_eq "... and it is not running" "shut off" "$(v domain list --all | awk '$2 == "nokernel" { print $3, $4 }')"
v domain undefine nokernel >/dev/null
: >"$VMM_ROOT/x.log"
out=$(v domain undefine ../x 2>&1); rc=$?
expect_eq "undefine: a name that is a path is refused" "125 vmm: error: '../x' is not a domain name (A-Z a-z 0-9 _ . + -)" "$rc $out"
check "... and touches nothing outside the store's domains" test -f "$VMM_ROOT/x.log"
for verb in destroy shutdown console; do
	out=$(v domain $verb nosuch 2>&1); rc=$?
	expect_eq "$verb: an unknown domain" "125 vmm: error: no domain named 'nosuch' (see 'vmm domain list --all')" "$rc $out"
done
out=$(v domain shutdown --timeout x demo 2>&1); rc=$?
expect_match "shutdown --timeout: whole seconds" "^vmm: error: --timeout x: give whole seconds, 0 to 86400" "$out"
out=$(v domain run nosuch 2>&1); rc=$?
expect_eq "run: an unknown domain" "125 vmm: error: no domain named 'nosuch' (see 'vmm domain list --all')" "$rc $out"

if ! have_kvm; then
	skip "domain run: guests" "/dev/kvm not accessible on this host"
	exit 0
fi
cat > "$T/dom.init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc; mount -t devtmpfs dev /dev
echo "domain guest: $(grep -o 'marker=[a-z]*' /proc/cmdline)"
grep -q marker=panic /proc/cmdline && exit 3
devmem 0xd0000000 8 7
EOF
APPLETS="sh mount echo cat grep devmem" scripts/mkinitramfs.sh "$T/dom.cpio" "$T/dom.init"
cat > "$T/run.xml" <<XML
<domain type='kvm'><name>runner</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type><kernel>$KERNEL</kernel><initrd>$T/dom.cpio</initrd>
<cmdline>marker=fromxml</cmdline></os>
<devices><serial type='file'><source path='$T/dom-console.log'/></serial><rng model='virtio'/></devices></domain>
XML
v domain define "$T/run.xml" >/dev/null
timeout "$BOOT_TIMEOUT" "$VMM" domain run runner </dev/null >"$T/run.out" 2>&1; rc=$?
expect_eq "run: the guest's exit status is vmm's" 7 "$rc"
expect_match "run: the file console got the guest's output, with the XML's cmdline" "domain guest: marker=fromxml" "$(cat "$T/dom-console.log")"

# libvirt's own XML for it (virsh dumpxml on the test driver, with what libvirt adds) boots the same.
v domain dumpxml runner >"$T/run-vmm.xml"
tvirsh "define $T/run-vmm.xml; dumpxml runner" | domain_xml | sed 's/<name>runner</<name>fromvirsh</' >"$T/virsh-run.xml"
: >"$T/dom-console.log"
timeout "$BOOT_TIMEOUT" "$VMM" domain run "$T/virsh-run.xml" </dev/null >"$T/virsh-run.out" 2>&1; rc=$?
expect_eq "run: libvirt-written XML (virsh dumpxml) boots, the guest's status" 7 "$rc"
expect_match "... its console, with the cmdline" "domain guest: marker=fromxml" "$(cat "$T/dom-console.log")"

# A guest kernel panic is a crash: <on_crash> (libvirt's default destroy) applies, not
# <on_reboot>, even though the kernel resets the machine after it (panic=-1).
sed -e 's/<name>runner</<name>crasher</' -e 's/marker=fromxml/marker=panic/' \
	-e "s|$T/dom-console.log|$T/crash-console.log|" "$T/run.xml" >"$T/crash.xml"
timeout "$BOOT_TIMEOUT" "$VMM" domain run "$T/crash.xml" </dev/null >"$T/crash.out" 2>&1; rc=$?
expect_eq "run: a guest panic ends the domain with 125 (on_crash destroy)" 125 "$rc"
expect_eq "run: ... booted once, not restarted" 1 "$(grep -c 'domain guest: marker=panic' "$T/crash-console.log")"
expect_match "run: ... reported as a panic" "guest kernel panic" "$(cat "$T/crash.out")"

# --- A domain's life in the background: start, list, console, shutdown, destroy ---------
export VMM_RUNTIME="$T/run"
cat > "$T/con.init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc; mount -t devtmpfs dev /dev
echo "console guest up"
while read line </dev/ttyS0; do
	echo "got: $line" >/dev/ttyS0
	[ "$line" = off ] && devmem 0xd0000000 8 0
done
EOF
APPLETS="sh mount echo devmem" scripts/mkinitramfs.sh "$T/con.cpio" "$T/con.init"
cat > "$T/con.xml" <<XML
<domain type='kvm'><name>con</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type><kernel>$KERNEL</kernel><initrd>$T/con.cpio</initrd><cmdline>quiet loglevel=1</cmdline></os>
<devices><serial type='pty'/><console type='pty'/></devices></domain>
XML
v domain define "$T/con.xml" >/dev/null
# state: NAME -> "ID STATE" from vmm domain list --all
state() { v domain list --all | awk -v n="$1" '$2 == n { print $1, $3 ($4 ? " " $4 : "") }'; }
out=$(v domain start con 2>&1); rc=$?
expect_eq "start: virsh's line, exit 0" "0 Domain 'con' started" "$rc $(echo "$out" | head -1)"
pid=$(cat "$T/run/domains/con/pid" 2>/dev/null)
expect_eq "list: running, its Id the pid of its own vmm process" "$pid running" "$(state con)"
check "... and that process is vmm" grep -q vmm "/proc/$pid/cmdline"
expect_eq "list (no --all): the running one" "con" "$(v domain list --name | head -1)"
expect_eq "list --inactive: not it" 0 "$(v domain list --inactive --name | grep -cx con)"
out=$(v domain start con 2>&1); rc=$?
expect_eq "start: a running domain is refused" "125 vmm: error: domain con is already running" "$rc $out"
out=$(v domain undefine con 2>&1); rc=$?
expect_eq "undefine: refused while it runs" "125 vmm: error: domain con is running; 'vmm domain destroy con' first" "$rc $out"

# console: our input reaches the guest's serial port, its output comes back; one session at a time
# console_open NAME OUT: a console session fed from fd 7, its output in OUT, until the guest is up
console_open() {
	rm -f "$T/con.in"
	mkfifo "$T/con.in"
	(timeout "$BOOT_TIMEOUT" "$VMM" domain console "$1" <"$T/con.in" >"$2" 2>&1; echo "rc=$?" >>"$2") &
	conpid=$!
	exec 7>"$T/con.in"
	i=0	# the guest's first line waits in the pty for the first session
	while ! grep -q "console guest up" "$2" && [ $i -lt $((BOOT_TIMEOUT * 10)) ]; do i=$((i + 1)); sleep 0.1; done
}
console_open con "$T/con.out"
check "console: the guest's first line, kept for the first session" grep -q "console guest up" "$T/con.out"
printf 'hello\n' >&7
check "console: the guest got our line and answered" wait_text "$T/con.out" "got: hello"
expect_match "console: virsh's banner" "^Connected to domain 'con'" "$(head -1 "$T/con.out")"
out=$(v domain console con 2>&1); rc=$?
expect_eq "console: a second session is refused" "125 vmm: error: domain con: its console is in use by another session" "$rc $out"
printf '\035' >&7	# ^]
wait $conpid
exec 7>&-
expect_eq "console: ^] leaves, exit 0" "rc=0" "$(tail -1 "$T/con.out")"
expect_eq "... and the domain runs on" "$pid running" "$(state con)"

out=$(v domain shutdown con 2>&1); rc=$?
expect_eq "shutdown: a plain VM has no power button to press: one line, exit 1" \
	"1 vmm: error: domain con: a micro-VM has no ACPI power button and runs no vmm agent to ask; power it off from inside, or 'vmm domain destroy con'" "$rc $out"
check "its vmm process serves a control socket" test -S "$T/run/domains/con/ctl.sock"
out=$(v domain destroy con 2>&1); rc=$?
expect_eq "destroy: virsh's line, exit 0" "0 Domain 'con' destroyed" "$rc $(echo "$out" | head -1)"
expect_eq "... shut off at once" "- shut off" "$(state con)"
# gone, or a zombie until whoever adopted it reaps it
check "... its vmm process is gone" sh -c "! grep -q '^State:[^Z]*\$' /proc/$pid/status 2>/dev/null"
out=$(v domain destroy con 2>&1); rc=$?
expect_eq "destroy: not running" "1 vmm: error: domain con is not running" "$rc $out"

# A guest that powers itself off ends its domain, and the console session with it.
v domain start con >/dev/null
console_open con "$T/con2.out"
printf 'off\n' >&7
wait $conpid
exec 7>&-
expect_eq "console: the session ends with the domain" "rc=0" "$(tail -1 "$T/con2.out")"
i=0	# the lock goes with the process, a moment after the pty
while [ "$(state con)" != "- shut off" ] && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.1; done
expect_eq "a guest that powers off ends its domain" "- shut off" "$(state con)"
check "... and leaves no state behind" test -z "$(ls "$T/run/domains/con")"
expect_match "... its log says how each run went" "started .*ended after .*: destroyed \(vmm domain destroy\).*started .*ended: exit status 0" \
	"$(tr '\n' ' ' <"$T/root/domains/con.log")"
v domain undefine con >/dev/null

# --- A container defined from its own dump runs that container again ------------------
if scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	out1=$(v run --name rt busybox sh -c 'echo hi from rt; exit 3' 2>&1); rc1=$?
	v inspect --format libvirt rt >"$T/rt.xml"
	v rm rt >/dev/null
	v domain define "$T/rt.xml" >/dev/null
	out2=$(v domain run rt 2>&1); rc2=$?
	expect_eq "container -> XML -> domain run: the same output and exit code" "$rc1 $out1" "$rc2 $out2"
	expect_eq "... as a container again, under its name and image" "rt busybox" \
		"$(v ps -a --filter name=rt --format '{{.Names}} {{.Image}}')"
	out=$(v domain start rt 2>&1); rc=$?
	expect_eq "domain start of a container domain" "0 Domain 'rt' started" "$rc $(echo "$out" | head -1)"
	expect_eq "... vmm wait gives its exit code" 3 "$(v wait rt)"
	expect_eq "... the same container, not a new one" 1 "$(v ps -aq --filter name=rt | wc -l)"
	out=$(v domain console rt 2>&1); rc=$?
	expect_eq "console of a container domain: one line pointing to attach" \
		"125 vmm: error: domain rt is a container: its console is its process's; use 'vmm attach' or 'vmm logs'" "$rc $out"
	v domain undefine rt >/dev/null
	v rm rt >/dev/null

	# shutdown asks the container's process (SIGTERM through the agent): a trap exits 0
	v run -d --name sl busybox sh -c 'trap "exit 0" TERM; echo up; while :; do sleep 1; done' >/dev/null
	v inspect --format libvirt sl | v domain define - >/dev/null
	i=0	# its trap is set once it said so
	while [ $i -lt 600 ] && ! "$VMM" logs sl | grep -q up; do i=$((i + 1)); sleep 0.2; done
	expect_match "list: a running container is a running domain" "^[0-9]+ running" "$(state sl)"
	out=$(v domain shutdown --timeout 60 sl 2>&1); rc=$?
	expect_eq "shutdown: virsh's line, exit 0" "0 Domain 'sl' is being shutdown" "$rc $(echo "$out" | head -1)"
	expect_eq "... the process got SIGTERM and exited 0 (not killed)" 0 "$(v inspect -f '{{.State.ExitCode}}' sl)"
	expect_eq "... shut off" "- shut off" "$(state sl)"
	v domain undefine sl >/dev/null
	v rm sl >/dev/null
	# metadata that is not a container's: one line naming its XPath
	sed 's|<vmm:id>[0-9a-f]*</vmm:id>|<vmm:id>xyz</vmm:id>|' "$T/rt.xml" >"$T/badid.xml"
	out=$(v domain run "$T/badid.xml" 2>&1); rc=$?
	expect_eq "domain run: bad container metadata is one line, exit 125" \
		"125 vmm: error: domain rt: /domain/metadata/vmm:container: needs <vmm:id>, the container's 64 hex digit ID" "$rc $out"
	sed 's|<vmm:var>PATH=|<vmm:var>HOME</vmm:var><vmm:var>PATH=|' "$T/rt.xml" >"$T/badenv.xml"
	out=$(v domain run "$T/badenv.xml" 2>&1); rc=$?
	expect_eq "domain run: a variable without a value (the host's) is refused" \
		"125 vmm: error: domain rt: /domain/metadata/vmm:container: <vmm:var>HOME</vmm:var>: not KEY=VALUE" "$rc $out"
	check "... and no container was made" test -z "$(v ps -aq)"
else
	fail "container domains: busybox image" "$(tail -2 "$T/img.log")"
fi
