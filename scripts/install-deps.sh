#!/bin/sh
# Install everything vmm needs to build, test and benchmark on Debian 12.
# Idempotent: packages already present are left alone.
# libvirt-dev is optional for the build (vmm domain --from-libvirt/--to-libvirt);
# libvirt-daemon is only the libvirtd binary a test runs privately: no service
# is set up or started (that would be libvirt-daemon-system).
set -eu

PKGS="
build-essential pkg-config git ca-certificates openssl
libarchive-dev zlib1g-dev libzstd-dev libslirp-dev libfdt-dev libext2fs-dev e2fsprogs
libjson-c-dev libcurl4-openssl-dev libseccomp-dev libglib2.0-dev musl-tools libxml2-dev help2man
libmicrohttpd-dev python3-docker docker-compose
linux-source-6.1 bc flex bison libelf-dev libssl-dev xz-utils kmod cpio
busybox-static mmdebstrap
qemu-utils qemu-system-x86 skopeo umoci buildah docker-registry runc libvirt-clients libxml2-utils
podman conmon netavark aardvark-dns iptables containerd
libvirt-dev libvirt-daemon
curl netcat-openbsd iproute2 tmux util-linux bsdutils procps jq
zstd libcap2-bin python3
clang llvm libclang-rt-14-dev
"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

# The docker CLI is a client in the Engine API tests; its Debian package only when none is here.
command -v docker >/dev/null 2>&1 || missing="$missing docker.io"

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
