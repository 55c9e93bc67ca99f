package planner

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/duration"
)

// TestColumnsRoundTrip: the input's other columns keep their order and
// their text (quotes, HTML characters, formulas) through the plan file;
// Load, which apply uses, leaves them out.
func TestColumnsRoundTrip(t *testing.T) {
	cols := Columns{{Name: "Name", Value: `Ann "A" <Example>`}, {Name: "Team", Value: "=1+2"}, {Name: "Name (2)", Value: "Name (2)"}}
	path := filepath.Join(t.TempDir(), "plan.jsonl")
	w, err := CreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Emit(Item{Row: 2, Email: "a@example.com", Action: ActionSend, Reason: ReasonNotYetSent, Columns: cols})
	_ = w.Emit(Item{Row: 3, Email: "b@example.com", Action: ActionNone, Reason: ReasonAccepted})
	h := sampleHeader()
	h.Columns = []string{"Name", "Team", "Name (2)"}
	if _, err := w.Commit(h); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), `"columns":{"Name":"Ann \"A\" <Example>","Team":"=1+2","Name (2)":"Name (2)"}`) {
		t.Fatalf("columns not written as one ordered object:\n%s", raw)
	}
	if strings.Count(string(raw), `"columns":{`) != 1 {
		t.Fatalf("an item without columns wrote some:\n%s", raw)
	}
	r, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !reflect.DeepEqual(r.Header.Columns, h.Columns) {
		t.Errorf("header columns %q", r.Header.Columns)
	}
	it, err := r.Next()
	if err != nil || !reflect.DeepEqual(it.Columns, cols) {
		t.Fatalf("columns read back as %q, %v", it.Columns, err)
	}
	if got := it.Columns.Get("Team"); got != "=1+2" {
		t.Errorf("Get(Team) = %q", got)
	}
}

func TestColumnsRefused(t *testing.T) {
	for _, bad := range []string{`{"a":1}`, `["a"]`, `{"a":"b"`, `"x"`} {
		var c Columns
		if err := c.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%s read as %q", bad, c)
		}
	}
	var c Columns
	if err := c.UnmarshalJSON([]byte(`null`)); err != nil || c != nil {
		t.Errorf("null: %q, %v", c, err)
	}
}

// TestPlanReadsDays: a plan's durations read days, as the flags do.
func TestPlanReadsDays(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.jsonl")
	line := `{"kind":"invitectl/plan","version":1,"customer":"C01","apiVersion":"v1","createdAt":"2026-11-24T00:00:00Z","source":{"path":"c.csv","sha256":"ab","rows":0},"policy":{"action":"invite","resendAfter":"7d","reinviteDeclined":false,"prune":false,"trustList":false,"maxMails":3},"summary":{"send":0,"cancel":0,"none":0,"invalid":0,"checkFailed":0,"reasons":{}},"lagWindow":"1d12h"}`
	if err := os.WriteFile(path, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := r.Header.Policy
	if time.Duration(p.ResendAfter) != 7*duration.Day || p.MaxMails != 3 || time.Duration(r.Header.LagWindow) != 36*time.Hour {
		t.Fatalf("policy %+v, lag window %v", p, r.Header.LagWindow)
	}
}
