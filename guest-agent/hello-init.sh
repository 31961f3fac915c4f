#!/bin/sh
# /init of the demo initramfs `make` builds: say hello from inside the VM, then
# report exit status 0 through vmm's exit device.
mount -t proc proc /proc
mount -t devtmpfs dev /dev
echo "Hello from inside a vmm micro-VM: Linux $(uname -r), $(nproc) vCPU(s), $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB RAM"
devmem 0xd0000000 8 0
