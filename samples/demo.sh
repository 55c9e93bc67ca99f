#!/bin/sh
# The README's demo, end to end on the embedded emulator:
#  1. the single-invitation commands against `invitectl emulator`;
#  2. a campaign in the sandbox: dry run, the real run, the report;
#  3. a campaign interrupted with Ctrl-C (SIGINT), resumed, and its status.
# Exits non-zero as soon as a step fails.
set -eu
BIN=${1:-bin/invitectl}
OUT=demo-out
rm -rf "$OUT"
mkdir -p "$OUT"
# The demo's own ledger: its sends to the emulator are no business of a real
# campaign's (and a real one's of the demo's).
INVITECTL_STATE_DIR=$OUT/state
export INVITECTL_STATE_DIR

step() {
	printf '\n$ invitectl %s\n' "$*"
	"$BIN" "$@"
}

echo "== 1. Single invitations against the emulator =="
"$BIN" emulator --world samples/world.json --addr 127.0.0.1:0 --latency 10ms >"$OUT/emulator.url" 2>"$OUT/emulator.log" &
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
echo "Emulator at $INVITECTL_ENDPOINT, customer $INVITECTL_CUSTOMER"
step list --state invited --order-by update_time:desc
step check omar.eriksen@acme-corp.example alan.castro@acme-corp.example new.hire@acme-corp.example
step send omar.eriksen@acme-corp.example
step get omar.eriksen@acme-corp.example
step cancel omar.eriksen@acme-corp.example
step get omar.eriksen@acme-corp.example

echo
echo "== 2. A campaign in the sandbox: dry run, run, report =="
step run --sandbox -i samples/campaign.csv --dry-run --no-progress
step run --sandbox -i samples/campaign.csv -o "$OUT/sandbox-plan.jsonl" --yes --no-progress
step report "$OUT/sandbox-plan.results.jsonl"
echo "(results as CSV: $OUT/sandbox-plan.results.csv)"

echo
echo "== 3. Interrupted and resumed, against the emulator =="
printf '\n$ invitectl plan -i samples/campaign.csv -o %s   (summary as above)\n' "$OUT/plan.jsonl"
"$BIN" plan -i samples/campaign.csv -o "$OUT/plan.jsonl" --no-progress >/dev/null
printf '\n$ invitectl apply %s --yes --write-qps 20   (interrupted after 2 s)\n' "$OUT/plan.jsonl"
"$BIN" apply "$OUT/plan.jsonl" --yes --write-qps 20 --no-progress >"$OUT/apply.out" 2>&1 &
APPLY=$!
sleep 2
kill -INT $APPLY
status=0
wait $APPLY || status=$?
tail -n 3 "$OUT/apply.out"
if [ "$status" -ne 130 ] && [ "$status" -ne 0 ]; then
	echo "demo: apply exited with $status, want 130 (interrupted) or 0" >&2
	exit 1
fi
step resume "$OUT/plan.results.jsonl" --write-qps 20 --no-progress
step status "$OUT/plan.results.jsonl" --format csv -o "$OUT/status.csv"
echo "(who accepted, one row per address: $OUT/status.csv)"
# Not through step: its echo of the command would land in the CSV too.
printf '\n$ invitectl list --state invited --format csv > %s\n' "$OUT/invited.csv"
"$BIN" list --state invited --format csv >"$OUT/invited.csv"
echo "$(($(wc -l <"$OUT/invited.csv") - 1)) invitations are now INVITED (listed in $OUT/invited.csv; one line each, after the header)"
echo
echo "demo: done"
