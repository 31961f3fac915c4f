#!/bin/sh
# vmm --version and vmm version, as docker prints them.
. tests/integration/lib.sh

out=$("$VMM" --version); rc=$?
expect_match "--version: one line" "^vmm version [0-9a-z._-]+$" "$out"
expect_eq "--version exits 0" 0 "$rc"
expect_eq "version -f: the same version" "$(echo "$out" | cut -d' ' -f3)" "$("$VMM" version -f '{{.Version}}')"
expect_eq "version -f: os/arch" "linux/amd64" "$("$VMM" version --format '{{.Os}}/{{.Arch}}')"
expect_eq "version -f: the host kernel" "$(uname -r)" "$("$VMM" version -f '{{.KernelVersion}}')"
expect_match "version: the table" "Host kernel: +$(uname -r)" "$("$VMM" version)"
out=$("$VMM" version -f '{{.Nope' 2>&1); rc=$?
expect_eq "version -f with a broken template" "125 vmm: error: template: unclosed action (missing }})" "$rc $out"
