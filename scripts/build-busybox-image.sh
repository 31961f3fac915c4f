#!/bin/sh
# Build the default "busybox" image from Debian's busybox-static and load it into
# the store as busybox:latest, unless the same image (same ID) is already there.
#
#   scripts/build-busybox-image.sh VMM_BINARY      (the store: $VMM_ROOT or vmm's default)
#
# Reproducible: fixed mtimes, sorted members, numeric owners, fixed modes, so the
# same busybox binary always gives the same layer diff_id and image ID.
# One layer: /bin/busybox with every applet of `busybox --list-full` as a hard
# link, /etc/passwd and /etc/group, /tmp (1777), /root, /home, /var, and mount
# points /proc /sys /dev /run. Config: Cmd ["sh"], PATH, linux/amd64.
set -eu

VMM=${1:?usage: build-busybox-image.sh VMM_BINARY}
BUSYBOX=${BUSYBOX:-/bin/busybox}
# 2024-01-01T00:00:00Z unless the build asks for another date
EPOCH=${SOURCE_DATE_EPOCH:-1704067200}
TAG=busybox:latest

if ! [ -x "$BUSYBOX" ] || ! "$BUSYBOX" --list-full >/dev/null 2>&1; then
	echo "build-busybox-image: $BUSYBOX is not a busybox binary (apt-get install busybox-static)" >&2
	exit 1
fi
if ! LC_ALL=C file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' &&
   ldd "$BUSYBOX" >/dev/null 2>&1; then
	echo "build-busybox-image: $BUSYBOX is not statically linked (apt-get install busybox-static)" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vmm-busybox.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
umask 022

mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" \
	"$root/tmp" "$root/root" "$root/home" "$root/var/tmp" "$root/proc" "$root/sys" \
	"$root/dev" "$root/run"
cp "$BUSYBOX" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
"$BUSYBOX" --list-full | LC_ALL=C sort | while read -r applet; do
	case "$applet" in
	""|bin/busybox|*..*|/*) continue ;;
	esac
	mkdir -p "$root/$(dirname "$applet")"
	[ -e "$root/$applet" ] || ln "$root/bin/busybox" "$root/$applet"
done
[ -e "$root/bin/sh" ] || ln "$root/bin/busybox" "$root/bin/sh"

cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
nogroup:x:65534:
GROUP
chmod 0644 "$root/etc/passwd" "$root/etc/group"
find "$root" -type d -exec chmod 0755 {} +
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 0700 "$root/root"

# the layer: GNU tar, sorted, fixed times and owners
(cd "$root" && LC_ALL=C ls -A | LC_ALL=C sort) > "$work/top"
# shellcheck disable=SC2046
tar --sort=name --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner --format=gnu \
	-C "$root" -cf "$work/layer.tar" $(cat "$work/top")
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)

created=$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)
version=$("$BUSYBOX" 2>&1 | head -1 | sed 's/ multi-call binary.*//; s/"/'"'"'/g')
printf '%s' "{\"architecture\":\"amd64\",\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"sh\"]},\"created\":\"$created\",\"history\":[{\"created\":\"$created\",\"created_by\":\"scripts/build-busybox-image.sh: $version\"}],\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$diff_id\"]}}" > "$work/config.json"
config_id=$(sha256sum "$work/config.json" | cut -d' ' -f1)

have=$("$VMM" images -q --no-trunc "$TAG" 2>/dev/null | head -1 || true)
if [ "$have" = "sha256:$config_id" ]; then
	echo "busybox image: $TAG is up to date (${config_id%"${config_id#????????????}"})"
	exit 0
fi

# a docker-archive: manifest.json, the config, the layer
mkdir "$work/archive"
mv "$work/config.json" "$work/archive/$config_id.json"
mv "$work/layer.tar" "$work/archive/$diff_id.tar"
printf '%s' "[{\"Config\":\"$config_id.json\",\"RepoTags\":[\"$TAG\"],\"Layers\":[\"$diff_id.tar\"]}]" \
	> "$work/archive/manifest.json"
tar --sort=name --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner --format=gnu \
	-C "$work/archive" -cf "$work/busybox.tar" manifest.json "$config_id.json" "$diff_id.tar"
"$VMM" load -i "$work/busybox.tar"
