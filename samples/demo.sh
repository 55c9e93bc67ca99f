#!/bin/sh
# The README's demo: start the emulator on samples/world.json, run the
# single-invitation commands against it, print what they return, stop it.
# Exits non-zero as soon as a step fails.
set -eu
BIN=${1:-bin/invitectl}
OUT=demo-out
rm -rf "$OUT"
mkdir -p "$OUT"

"$BIN" emulator --world samples/world.json --addr 127.0.0.1:0 >"$OUT/emulator.url" 2>"$OUT/emulator.log" &
EMU=$!
trap 'kill $EMU 2>/dev/null || true' EXIT INT TERM
i=0
while [ ! -s "$OUT/emulator.url" ]; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $EMU 2>/dev/null; then
		echo "demo: the emulator did not start:" >&2
		cat "$OUT/emulator.log" >&2
		exit 1
	fi
	sleep 0.1
done
INVITECTL_ENDPOINT=$(cat "$OUT/emulator.url")
INVITECTL_CUSTOMER=C03abc123
export INVITECTL_ENDPOINT INVITECTL_CUSTOMER

step() {
	printf '\n$ invitectl %s\n' "$*"
	"$BIN" "$@"
}

echo "Emulator at $INVITECTL_ENDPOINT, customer $INVITECTL_CUSTOMER"
step list --state invited --order-by update_time:desc
step check omar.eriksen@acme-corp.example alan.castro@acme-corp.example new.hire@acme-corp.example
step send omar.eriksen@acme-corp.example
step get omar.eriksen@acme-corp.example
step cancel omar.eriksen@acme-corp.example
step get omar.eriksen@acme-corp.example
echo
echo "demo: done"
