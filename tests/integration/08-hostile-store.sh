#!/bin/sh
# Files in the store that someone else wrote (a container's config.json) are
# data, not orders: an ID that is not 64 hex digits, or not its folder's name,
# makes the entry invisible rather than a path to elsewhere.
. tests/integration/lib.sh

export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
id=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
mkdir -p "$VMM_ROOT/containers/$id" "$VMM_ROOT/containers/other" "$T/victim"
echo keep > "$T/victim/file"
cat > "$VMM_ROOT/containers/$id/config.json" <<JSON
{"Id":"../../../victim/../../x","Name":"evil","Image":"sha256:00","Config":{"Cmd":["sh"]},"HostConfig":{"VmMemory":1,"Vcpus":1}}
JSON
echo '{"Status":"exited"}' > "$VMM_ROOT/containers/$id/state.json"
sed "s|\"Id\":\"[^\"]*\"|\"Id\":\"$id\"|; s|evil|twin|" "$VMM_ROOT/containers/$id/config.json" > "$VMM_ROOT/containers/other/config.json"
echo '{"Status":"exited"}' > "$VMM_ROOT/containers/other/state.json"

expect_eq "a config whose Id is not hex is not a container" "" "$("$VMM" ps -aq)"
out=$("$VMM" rm evil 2>&1); rc=$?
expect_eq "rm cannot reach it by name" "1 vmm: error: no such container: evil" "$rc $out"
out=$("$VMM" rm twin 2>&1); rc=$?
expect_eq "a config whose Id is not its folder's name is not a container either" "1 vmm: error: no such container: twin" "$rc $out"
expect_eq "nothing outside the store was touched" "keep" "$(cat "$T/victim/file")"

# state.json's Networks (a running container's other networks): each entry is checked
good=1111111111111111111111111111111111111111111111111111111111111111
mkdir -p "$VMM_ROOT/containers/$good"
sed "s|\"Id\":\"[^\"]*\"|\"Id\":\"$good\"|; s|evil|fine|" "$VMM_ROOT/containers/$id/config.json" \
	>"$VMM_ROOT/containers/$good/config.json"
for bad in '[{"Name":"n2","IPAddress":"1.2.3","Gateway":"10.1.0.1"}]' '[5]' '[{"Name":"n2"}]' \
	"[{\"Name\":\"$(printf 'n%.0s' $(seq 65))\",\"IPAddress\":\"10.1.0.2\",\"Gateway\":\"10.1.0.1\"}]"; do
	echo "{\"Status\":\"exited\",\"Networks\":$bad}" >"$VMM_ROOT/containers/$good/state.json"
	out=$("$VMM" rm fine 2>&1); rc=$?
	expect_eq "a state.json with Networks $bad is not read" "1 vmm: error: no such container: fine" "$rc $out"
done
echo '{"Status":"exited","Networks":[{"Name":"n2","IPAddress":"10.1.0.2","Gateway":"10.1.0.1"}]}' \
	>"$VMM_ROOT/containers/$good/state.json"
expect_eq "... and a well-formed one is" "fine" "$("$VMM" ps -a --format '{{.Names}}' 2>&1)"
