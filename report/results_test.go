package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/planner"
)

// planAndJournal writes a plan of four items with the input's columns
// (one named like a results column) and a journal in which a run finished
// two of them and left a call of a third unanswered.
func planAndJournal(t *testing.T) (planPath, results string) {
	t.Helper()
	dir := t.TempDir()
	planPath = filepath.Join(dir, "plan.jsonl")
	w, err := planner.CreateFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	cols := func(name, team string) planner.Columns {
		return planner.Columns{{Name: "Name", Value: name}, {Name: "outcome", Value: team}}
	}
	items := []planner.Item{
		{Row: 2, Email: "a@example.org", Action: planner.ActionSend, Reason: planner.ReasonNotYetSent, Columns: cols("Ann", "Sales")},
		{Row: 3, Email: "b@example.org", Action: planner.ActionSend, Reason: planner.ReasonNotYetSent, Columns: cols("Bob", "=HYPERLINK()")},
		{Row: 4, Email: "c@example.org", Action: planner.ActionSend, Reason: planner.ReasonNotYetSent, Columns: planner.Columns{{Name: "Name", Value: "Cy"}}},
		{Row: 5, Email: "d@example.org", Action: planner.ActionNone, Reason: planner.ReasonAccepted, Columns: cols("Di", "Ops")},
	}
	for _, it := range items {
		if err := w.Emit(it); err != nil {
			t.Fatal(err)
		}
	}
	h := planner.Header{Kind: planner.Kind, Version: planner.Version, Customer: "C0123abc", Columns: []string{"Name", "outcome"}}
	if _, err := w.Commit(h); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	l, err := planner.Load(planPath)
	if err != nil {
		t.Fatal(err)
	}
	results = filepath.Join(dir, "plan.results.jsonl")
	hdr := testHeader()
	hdr.Plan = journal.PlanRef{Path: planPath, SHA256: l.SHA256, Items: 4}
	j, err := journal.Create(results, hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	done := outcome("a@example.org", 2, journal.OutcomeDone, 1)
	skipped := journal.Record{Type: journal.TypeOutcome, At: at(2), Row: 5, Email: "d@example.org", Action: "none", Reason: "accepted", Outcome: journal.OutcomeSkipped}
	if err := j.Append(runEvent(journal.EventStart, 0), intent("a@example.org", 2, 1, 0.5), done, skipped, intent("b@example.org", 3, 1, 3)); err != nil {
		t.Fatal(err)
	}
	return planPath, results
}

// TestResultsListEveryPlanItem: the results hold every plan item, in plan
// order, pending ones as pending with what to do, and the input's columns
// (one renamed so that the header names each column once).
func TestResultsListEveryPlanItem(t *testing.T) {
	_, journal := planAndJournal(t)
	res, err := OpenResults(journal)
	if err != nil {
		t.Fatal(err)
	}
	if res.Warning != "" || !res.HasPlan() {
		t.Fatalf("plan not used: %s", res.Warning)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, res); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := strings.Join(rows[0], ",")
	if !strings.HasSuffix(head, ",explanation,Name,input outcome") {
		t.Errorf("header %s", head)
	}
	want := []string{
		"2,a@example.org,send,done,Ann,Sales",
		"3,b@example.org,send,pending,Bob,'=HYPERLINK()",
		"4,c@example.org,send,pending,Cy,",
		"5,d@example.org,none,skipped,Di,Ops",
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows:\n%s", len(rows), buf.String())
	}
	for i, w := range want {
		r := rows[i+1]
		got := strings.Join(append(r[:4:4], r[len(r)-2:]...), ",")
		if got != w {
			t.Errorf("row %d = %s, want %s", i+1, got, w)
		}
	}
	if d := rows[2][7]; !strings.Contains(d, "reads it back first") || !strings.Contains(d, "invitectl resume "+journal) {
		t.Errorf("the unanswered call's detail %q does not say what resume does", d)
	}
	if d := rows[3][7]; !strings.Contains(d, "not taken up yet") {
		t.Errorf("the pending item's detail %q", d)
	}

	buf.Reset()
	if err := WriteJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Summary Summary `json:"summary"`
		Items   []Item  `json:"items"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Items) != 4 || doc.Summary.ByOutcome[OutcomePending] != 2 || doc.Items[1].Outcome != OutcomePending ||
		doc.Items[0].Columns.Get("Name") != "Ann" || doc.Items[0].Explanation == "" {
		t.Errorf("JSON: %d items, pending %d, %+v", len(doc.Items), doc.Summary.ByOutcome[OutcomePending], doc.Items)
	}
}

// TestResultsWithoutPlan: a plan that is gone or changed is said, and the
// results list what the journal records.
func TestResultsWithoutPlan(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(plan string)
		want   string
	}{
		{"gone", func(p string) { _ = os.Remove(p) }, "cannot be read"},
		{"changed", func(p string) {
			b, _ := os.ReadFile(p)
			_ = os.WriteFile(p, bytes.Replace(b, []byte("Cy"), []byte("Cyd"), 1), 0o600)
		}, "has changed since the journal was made"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, journal := planAndJournal(t)
			tc.change(plan)
			res, err := OpenResults(journal)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.Warning, tc.want) || res.HasPlan() {
				t.Fatalf("warning %q", res.Warning)
			}
			n := 0
			if err := res.Each(func(it Item) error { n++; return nil }); err != nil || n != 2 {
				t.Fatalf("%d items (%v), want the journal's 2", n, err)
			}
		})
	}
}

// TestTableNextStepsFit: the summary says what to do about pending, in
// doubt, failed and rejected items, explains the reasons, and fits 80
// columns (only a single word longer than a line may pass it).
func TestTableNextStepsFit(t *testing.T) {
	_, abs := planAndJournal(t)
	t.Chdir(filepath.Dir(abs))
	name := filepath.Base(abs) // as an administrator types it
	res, err := OpenResults(name)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summarize()
	doubt := outcome("e@example.org", 6, journal.OutcomeInDoubt, 4)
	doubt.Message = strings.Repeat("the call timed out and a read-back could not tell ", 3)
	failed := outcome("f@example.org", 7, journal.OutcomeFailed, 5)
	failed.NotSent = true
	s.ByOutcome[journal.OutcomeInDoubt], s.ByOutcome[journal.OutcomeFailed], s.FailedNotSent = 1, 1, 1
	s.NeedAttention, s.Attention = 2, []journal.Record{doubt, failed}
	for _, width := range []int{80, 60} {
		var buf bytes.Buffer
		if err := WriteTable(&buf, s, width); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, want := range []string{
			"Next steps:", "pending", "\n" + strings.Repeat(" ", 21) + "invitectl resume " + name + "\n",
			"in_doubt", "invitectl resume " + name + " --retry-in-doubt\n", "invitectl get EMAIL", "nothing was sent",
			"Reasons:", planner.Explain(planner.ReasonAccepted),
		} {
			if !strings.Contains(out, want) && !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
				t.Errorf("width %d: the table lacks %q:\n%s", width, want, out)
			}
		}
		// The counts above the next steps are fixed lines that fit 80; the
		// tables under them fit any width.
		lines := strings.Split(out, "\n")
		if width < 80 {
			lines = strings.Split(out[strings.Index(out, "Next steps:"):], "\n")
		}
		for _, l := range lines {
			if utf8.RuneCountInString(l) > width && !strings.HasPrefix(l, "Plan") {
				t.Errorf("width %d: line of %d: %q", width, utf8.RuneCountInString(l), l)
			}
		}
	}
}
