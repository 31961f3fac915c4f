#!/bin/sh
# Build a Debian image with a C toolchain (gcc, make, libc6-dev) from Debian's
# packages with mmdebstrap, and import it into the store, unless an image of the
# same package list is already there under that name.
#
#   scripts/build-debian-image.sh VMM_BINARY [NAME]   (default vmm-ci/debian-gcc:bookworm;
#                                                       the store: $VMM_ROOT or vmm's default)
#
# The root filesystem tar is cached in ~/.cache/vmm/ (or $VMM_CACHE), keyed by the
# suite, variant, mirror and package list: a second store imports it without a download.
# DEBIAN_SUITE, DEBIAN_MIRROR, DEBIAN_PACKAGES change what is built.
set -eu

VMM=${1:?usage: build-debian-image.sh VMM_BINARY [NAME]}
NAME=${2:-vmm-ci/debian-gcc:bookworm}
SUITE=${DEBIAN_SUITE:-bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=${DEBIAN_PACKAGES:-gcc,make,libc6-dev}
VARIANT=minbase
CACHE=${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmm}

die() { echo "build-debian-image: $*" >&2; exit 1; }

key=$(printf '%s\n' "$SUITE" "$VARIANT" "$MIRROR" "$PACKAGES" | sha256sum | cut -c1-16)
tarball=$CACHE/debian-$SUITE-$key.tar

# the same package list under that name: nothing to do
have=$("$VMM" images -q -f "label=vmm.debian-key=$key" "$NAME" 2>/dev/null | head -1 || true)
if [ -n "$have" ]; then
	echo "debian image: $NAME is up to date ($have)"
	exit 0
fi

if [ ! -s "$tarball" ]; then
	command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap not found (apt-get install mmdebstrap)"
	mkdir -p "$CACHE" || die "cannot create $CACHE"
	log=$CACHE/debian-$SUITE-$key.log
	start=$(date +%s)
	# a partial tar never takes the cached name
	if ! mmdebstrap --variant="$VARIANT" --include="$PACKAGES" --format=tar \
		"$SUITE" "$tarball.part" "$MIRROR" >"$log" 2>&1; then
		rm -f "$tarball.part"
		die "mmdebstrap $SUITE failed: $(grep -m1 '^E:' "$log" || tail -1 "$log") (log: $log)"
	fi
	mv "$tarball.part" "$tarball"
	echo "debian image: mmdebstrap $SUITE +$PACKAGES: $(($(date +%s) - start))s," \
		"$(du -m "$tarball" | cut -f1) MB ($tarball)"
fi

"$VMM" import \
	-c "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
	-c 'CMD ["bash"]' \
	-c "LABEL vmm.debian-key=$key vmm.debian-packages=$PACKAGES" \
	-m "scripts/build-debian-image.sh: mmdebstrap --variant=$VARIANT --include=$PACKAGES $SUITE" \
	"$tarball" "$NAME" >/dev/null || die "vmm import $tarball $NAME failed"
echo "debian image: $NAME imported ($("$VMM" images -q -f "label=vmm.debian-key=$key" "$NAME" | head -1))"
