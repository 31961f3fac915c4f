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

# vmm's own errors exit 125, as docker's, flag errors included
out=$("$VMM" ps --bogus 2>&1); rc=$?
expect_eq "an unknown flag: one line, exit 125" "125 vmm: error: invalid option '--bogus' or missing argument (see 'vmm ps --help')" "$rc $out"
out=$("$VMM" nosuchcommand 2>&1); rc=$?
expect_eq "an unknown command: exit 125" "125" "$rc"
out=$("$VMM" volume 2>&1); rc=$?
expect_eq "a command group without its verb: exit 125" "125" "$rc"
