package planner

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/invitectl/invitectl/pkg/invitations"
)

// viewPlan writes a plan with every section, long addresses and details,
// and a prune above the alarm's limits.
func viewPlan(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.jsonl")
	w, err := CreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	obs := &Observed{State: invitations.StateInvited, MailsSentCount: 1, UpdateTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	items := []Item{
		{Row: 2, Email: "someone.with.a.rather.long.name@subsidiary.acme-corp.example", Action: ActionSend, Reason: ReasonNotYetSent},
		{Row: 3, Email: "x@@acme-corp.example", Action: ActionNone, Reason: ReasonInvalidEmail,
			Detail: strings.Repeat("an explanation that goes on and on ", 5)},
		{Row: 4, Email: "b@acme-corp.example", Action: ActionNone, Reason: ReasonAccepted, Columns: Columns{{Name: "Team", Value: "=1+2"}}},
	}
	for i := range 12 {
		items = append(items, Item{Email: fmt.Sprintf("stray%02d@acme-corp.example", i), Action: ActionCancel, Reason: ReasonNotInInput, Observed: obs})
	}
	var sum Summary
	for _, it := range items {
		sum.Add(it)
		if err := w.Emit(it); err != nil {
			t.Fatal(err)
		}
	}
	h := Header{Kind: Kind, Version: Version, Customer: "C0view01", APIVersion: "v1", Source: Source{Path: "c.csv", Rows: 3},
		Policy: Policy{Action: WantInvite, Prune: true}, Summary: sum, Columns: []string{"Team"},
		Listed: map[invitations.State]int{invitations.StateInvited: 13}}
	if _, err := w.Commit(h); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	return path
}

// TestRenderTable: the counts match the lists under them, the prune alarm
// is one loud line, the reasons are explained, and every line but the
// first (which names the input whole) fits the width.
func TestRenderTable(t *testing.T) {
	path := viewPlan(t)
	for _, width := range []int{80, 60} {
		var buf bytes.Buffer
		if err := Render(&buf, path, FormatTable, width); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, want := range []string{
			"\n  send            1  not_yet_sent 1\n",
			"\n  cancel         12  not_in_input 12\n",
			"\n  attention       1  invalid_email 1\n",
			"\n  none            1  accepted 1\n",
			"\nsend:\n", "\ncancel (first 10 of 12):\n", "\nneeds attention", "\nnone:\n",
			"\n!! --prune cancels 12 of the customer's 13",
			"\nReasons:\n  not_yet_sent",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("width %d: no %q in\n%s", width, want, out)
			}
		}
		for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if i > 0 && utf8.RuneCountInString(l) > width {
				t.Errorf("width %d: line %d has %d characters: %q", width, i+1, utf8.RuneCountInString(l), l)
			}
		}
	}
}

func TestPruneAlarm(t *testing.T) {
	tests := []struct {
		pruned, invited int
		loud            bool
	}{
		{0, 0, false},
		{1, 1, true},      // the one-row input
		{2, 10, false},    // 20% exactly
		{3, 10, true},     // 30%
		{50, 1000, false}, // 5%, and 50 exactly
		{51, 1000, true},  // more than 50
		{5, 0, true},      // nothing listed as sent
	}
	for _, tt := range tests {
		h := Header{Listed: map[invitations.State]int{invitations.StateInvited: tt.invited}}
		s := Summary{Reasons: map[string]int{"cancel/" + ReasonNotInInput: tt.pruned}}
		n, alarm := PruneAlarm(h, s)
		if n != tt.pruned || (alarm != "") != tt.loud || (alarm != "" && !strings.HasPrefix(alarm, "!! ")) {
			t.Errorf("%d of %d: %d, %q", tt.pruned, tt.invited, n, alarm)
		}
	}
}

// TestRenderCSV: one row per item, the explanation and the input's
// columns, every cell defused.
func TestRenderCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, viewPlan(t), FormatCSV, 0); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 16 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",")+",Team" {
		t.Fatalf("%d rows, header %q", len(rows), rows[0])
	}
	if got := strings.Join(rows[3], "|"); got != "4|b@acme-corp.example|none|accepted|"+Explain(ReasonAccepted)+"||||||'=1+2" {
		t.Errorf("row 4 = %s", got)
	}
	if got := rows[4][5:8]; strings.Join(got, "|") != "INVITED|1|2026-01-01T00:00:00Z" {
		t.Errorf("the observation's columns %q", got)
	}
}
