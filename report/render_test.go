package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/planner"
)

// stateOf reads a journal made of recs.
func stateOf(t *testing.T, recs ...journal.Record) *journal.State {
	t.Helper()
	path := filepath.Join(t.TempDir(), "results.jsonl")
	j, err := journal.Create(path, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Append(recs...); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func renderState(t *testing.T) *journal.State {
	t.Helper()
	failed := outcome("-x@example.org", 3, journal.OutcomeFailed, 3)
	failed.HTTPCode, failed.Message = 400, "Invalid value, \"quoted\",\nsecond line"
	pruned := journal.Record{Type: journal.TypeOutcome, At: at(4), Email: "old@example.org", Action: "cancel", Reason: "not_in_input", Outcome: journal.OutcomeDone, Attempts: 1}
	doubt := outcome("=1+2@example.org", 2, journal.OutcomeInDoubt, 2)
	doubt.Detail = "timeout; mailsSentCount unchanged"
	return stateOf(t,
		runEvent(journal.EventStart, 0),
		pruned,
		failed,
		doubt,
		journal.Record{Type: journal.TypeOutcome, At: at(5), Row: 9, Email: "dup@example.org", Action: "none", Reason: "duplicate", Outcome: journal.OutcomeSkipped},
		outcome("dup@example.org", 5, journal.OutcomeDone, 6),
	)
}

func TestWriteCSV(t *testing.T) {
	st := renderState(t)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, FromState(st)); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse back: %v\n%s", err, buf.String())
	}
	want := [][]string{
		{"row", "email", "action", "outcome", "reason", "http_code", "message", "detail", "attempts", "finished_at", "explanation"},
		{"2", "'=1+2@example.org", "send", "in_doubt", "not_yet_sent", "", "", "timeout; mailsSentCount unchanged", "1", "2026-03-01T09:00:02Z", planner.Explain("not_yet_sent")},
		{"3", "'-x@example.org", "send", "failed", "not_yet_sent", "400", "Invalid value, \"quoted\",\nsecond line", "", "1", "2026-03-01T09:00:03Z", planner.Explain("not_yet_sent")},
		{"5", "dup@example.org", "send", "done", "not_yet_sent", "", "", "", "1", "2026-03-01T09:00:06Z", planner.Explain("not_yet_sent")},
		{"9", "dup@example.org", "none", "skipped", "duplicate", "", "", "", "0", "2026-03-01T09:00:05Z", planner.Explain("duplicate")},
		{"", "old@example.org", "cancel", "done", "not_in_input", "", "", "", "1", "2026-03-01T09:00:04Z", planner.Explain("not_in_input")},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows), len(want), buf.String())
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q\n want %q", i, rows[i], want[i])
		}
	}
}

func TestWriteJSON(t *testing.T) {
	tests := []struct {
		name  string
		st    *journal.State
		items int
	}{
		{"items", renderState(t), 5},
		{"empty", stateOf(t), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteJSON(&buf, FromState(tt.st)); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Summary map[string]any `json:"summary"`
				Items   []Item         `json:"items"`
			}
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatalf("invalid JSON: %v\n%s", err, buf.String())
			}
			if len(doc.Items) != tt.items || doc.Items == nil {
				t.Errorf("%d items, want %d", len(doc.Items), tt.items)
			}
			if _, ok := doc.Summary["elapsedSeconds"]; !ok {
				t.Errorf("summary lacks elapsedSeconds: %v", doc.Summary)
			}
		})
	}
}

func TestSummarizeTwoRuns(t *testing.T) {
	st := stateOf(t,
		// Run 1: 10 s active, then killed (no end record).
		runEvent(journal.EventStart, 0),
		intent("a@x.org", 2, 1, 1),
		outcome("a@x.org", 2, journal.OutcomeDone, 2),
		intent("b@x.org", 3, 1, 5),
		outcome("b@x.org", 3, journal.OutcomeInDoubt, 10),
		// An hour later, run 2: 20 s active.
		runEvent(journal.EventStart, 3600),
		intent("b@x.org", 3, 2, 3601),
		journal.Record{Type: journal.TypeOutcome, At: at(3612), Row: 3, Email: "b@x.org", Action: "send", Reason: "not_yet_sent", Outcome: journal.OutcomeDone, Attempts: 2, QuotaErrors: 2},
		journal.Record{Type: journal.TypeOutcome, At: at(3615), Row: 4, Email: "c@x.org", Action: "none", Reason: "accepted", Outcome: journal.OutcomeSkipped},
		intent("d@x.org", 5, 1, 3616),
		journal.Record{Type: journal.TypeOutcome, At: at(3617), Row: 5, Email: "d@x.org", Action: "send", Reason: "not_yet_sent", Outcome: journal.OutcomeRejected, HTTPCode: 400, Message: "not invitable"},
		runEvent(journal.EventEnd, 3620),
	)
	s := Summarize(st)
	checks := []struct {
		name      string
		got, want any
	}{
		{"Items", s.Items, 4},
		{"Runs", s.Runs, 2},
		{"Elapsed", s.Elapsed, 30 * time.Second},
		{"Started", s.Started, at(0)},
		{"Finished", s.Finished, at(3620)},
		{"Calls", s.Calls, 4},
		{"Rate", s.Rate, 4.0 / 30},
		{"Retries", s.Retries, 1},
		{"QuotaErrors", s.QuotaErrors, 2},
		{"done", s.ByOutcome[journal.OutcomeDone], 2},
		{"done/not_yet_sent", s.ByOutcomeReason["done/not_yet_sent"], 2},
		{"skipped/accepted", s.ByOutcomeReason["skipped/accepted"], 1},
		{"NeedAttention", s.NeedAttention, 1},
		{"Pending", s.Pending, 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if st.Runs[0].Event != journal.EventStart || st.Runs[1].Event != journal.EventEnd {
		t.Errorf("run events = %q, %q; want start (killed), end", st.Runs[0].Event, st.Runs[1].Event)
	}
}

func TestWriteTable(t *testing.T) {
	st := renderState(t)
	var buf bytes.Buffer
	if err := WriteTable(&buf, Summarize(st), 80); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"done", "not_in_input", "Need attention: 2", "-x@example.org", "Invalid value", "in_doubt", "timeout; mailsSentCount unchanged"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\nsecond line") {
		t.Errorf("a message's newline broke the table:\n%s", out)
	}
}
