package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/journal"
)

// The summary table, whole: what shows only when there is something to
// say (items without an outcome, unanswered calls, a torn line, more items
// needing attention than listed) and what each row of the attention list
// shows for a pruned item or one without an HTTP code.
func TestWriteTableWhole(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	attention := []journal.Record{
		{Row: 3, Email: "x@example.org", Action: "send", Outcome: journal.OutcomeRejected, HTTPCode: 400, Message: "INVALID_ARGUMENT: bad"},
		{Row: 0, Email: "old@example.org", Action: "cancel", Outcome: journal.OutcomeInDoubt, Detail: "could not read it back"},
	}
	tests := []struct {
		name string
		s    Summary
		want string
	}{
		{
			name: "everything to say",
			s: Summary{Customer: "C0123abc", Plan: journal.PlanRef{Path: "plan.jsonl", Items: 30}, Items: 25, Pending: 2, Torn: true,
				ByOutcome:       map[string]int{journal.OutcomeDone: 2, journal.OutcomeRejected: 1, journal.OutcomeInDoubt: 22},
				ByOutcomeReason: map[string]int{"in_doubt/not_yet_sent": 21, "in_doubt/not_in_input": 1, "rejected/not_yet_sent": 1, "done/not_yet_sent": 2},
				Runs:            2, Started: start, Finished: start.Add(time.Hour), Elapsed: 20 * time.Second, Calls: 30, Rate: 1.5, Retries: 3, QuotaErrors: 4,
				NeedAttention: 23, Attention: attention},
			want: `Plan                      plan.jsonl (30 items, customer C0123abc)
Items with an outcome     25
Pending (no outcome yet)  5 (interrupted, left by --limit, or still going)
Calls not yet answered    2 (resume reconciles them)
Torn last line            ignored (a run was cut off mid-write)

OUTCOME   REASON        ITEMS
done      not_yet_sent  2
rejected  not_yet_sent  1
in_doubt  not_in_input  1
in_doubt  not_yet_sent  21
total                   25

Runs            2, active 20s (2026-03-01T09:00:00Z to 2026-03-01T10:00:00Z)
Mutating calls  30 (1.5/s)
Retries         3
Quota errors    4

Next steps:
  in_doubt     22  the call may have landed: check with 'invitectl get EMAIL';
                   then, to send only where nothing landed:
                     invitectl resume RESULTS --retry-in-doubt
  rejected      1  refused for that address, or its state changed: see the
                   message; to try again:
                     invitectl resume RESULTS --retry-rejected

Reasons:
  not_yet_sent  no invitation sent yet: invite it (for a cancel: nothing to
                cancel)
  not_in_input  a sent invitation the input does not name: --prune cancels it

Need attention: 23 (rejected 1, failed 0, in doubt 22)
ROW  EMAIL            ACTION  OUTCOME   HTTP  MESSAGE
3    x@example.org    send    rejected  400   INVALID_ARGUMENT: bad
-    old@example.org  cancel  in_doubt  -     could not read it back
... and 21 more: see the CSV report
`,
		},
		{
			name: "nothing more to say",
			s: Summary{Customer: "C0123abc", Plan: journal.PlanRef{Path: "p.jsonl", Items: 2}, Items: 2,
				ByOutcome: map[string]int{journal.OutcomeDone: 1, journal.OutcomeRejected: 1}, ByOutcomeReason: map[string]int{"done/not_yet_sent": 1, "rejected/not_yet_sent": 1},
				NeedAttention: 1, Attention: attention[:1]},
			want: `Plan                   p.jsonl (2 items, customer C0123abc)
Items with an outcome  2

OUTCOME   REASON        ITEMS
done      not_yet_sent  1
rejected  not_yet_sent  1
total                   2

Mutating calls  0 (0.0/s)
Retries         0
Quota errors    0

Next steps:
  rejected      1  refused for that address, or its state changed: see the
                   message; to try again:
                     invitectl resume RESULTS --retry-rejected

Reasons:
  not_yet_sent  no invitation sent yet: invite it (for a cancel: nothing to
                cancel)

Need attention: 1 (rejected 1, failed 0, in doubt 0)
ROW  EMAIL          ACTION  OUTCOME   HTTP  MESSAGE
3    x@example.org  send    rejected  400   INVALID_ARGUMENT: bad
`,
		},
		{
			name: "no plan named, nothing to look at",
			s:    Summary{Items: 1, ByOutcome: map[string]int{journal.OutcomeDone: 1}, ByOutcomeReason: map[string]int{"done/resend": 1}},
			want: `Items with an outcome  1

OUTCOME  REASON  ITEMS
done     resend  1
total            1

Mutating calls  0 (0.0/s)
Retries         0
Quota errors    0

Reasons:
  resend  invited, last email older than --resend-after: send a reminder
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteTable(&buf, tt.s, 80); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// The commands the table suggests end with the flags that reach the same
// API and ledger, escaped for the terminal like the rest.
func TestWriteTableNextFlags(t *testing.T) {
	s := Summary{Journal: "r.jsonl", Items: 1, ByOutcome: map[string]int{journal.OutcomeRejected: 1},
		ByOutcomeReason: map[string]int{"rejected/not_yet_sent": 1}, NeedAttention: 1,
		NextFlags: " --sandbox --state-dir '/tmp/s\x1b[31m'"}
	var buf bytes.Buffer
	if err := WriteTable(&buf, s, 200); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "invitectl resume r.jsonl --retry-rejected --sandbox --state-dir '/tmp/s") || strings.Contains(out, "\x1b") {
		t.Errorf("suggested command without its flags, or raw:\n%q", out)
	}
}

// Items another run had in flight are a next step too: nothing in this
// journal will send them, and exit 0 alone does not say so.
func TestNextStepsNameItemsInFlight(t *testing.T) {
	s := Summary{Items: 3, ByOutcome: map[string]int{journal.OutcomeDone: 1, journal.OutcomeSkipped: 2},
		ByOutcomeReason: map[string]int{"done/not_yet_sent": 1, "skipped/in_flight": 2}}
	var b bytes.Buffer
	if err := WriteTable(&b, s, 80); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	i := strings.Index(out, "Next steps:\n  in_flight     2  skipped: another run was calling them")
	if i < 0 || !strings.Contains(out[i:], "resume that journal") {
		t.Fatalf("no next step for the items in flight:\n%s", out)
	}
}
