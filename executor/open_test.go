package executor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/planner"
)

// Open checks a plan before anything is created: its customer and its
// age (a plan from the future is a wrong clock), and asks Confirm last. A
// refusal leaves no journal and releases the run lock.
func TestOpenChecks(t *testing.T) {
	w := nysWorld(2)
	e := newEnv(t, w, emulator.Config{})
	e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})
	p, err := planner.Load(e.plan)
	if err != nil {
		t.Fatal(err)
	}
	made := p.Header.CreatedAt
	at := func(d time.Duration) func() time.Time { return func() time.Time { return made.Add(d) } }
	refuse := errors.New("no, thanks")
	tests := []struct {
		name     string
		cfg      OpenConfig
		usage    string // a *UsageError containing it
		err      error
		warnings []string
	}{
		{name: "fresh", cfg: OpenConfig{Now: at(time.Hour)}},
		{name: "its customer", cfg: OpenConfig{Customer: customer, Now: at(time.Hour)}},
		{name: "another customer", cfg: OpenConfig{Customer: "C0other1"}, usage: "is for customer " + customer + ", not C0other1"},
		{name: "older than --max-plan-age", cfg: OpenConfig{MaxPlanAge: time.Hour, Now: at(2 * time.Hour)}, usage: "more than --max-plan-age 1h"},
		{name: "within --max-plan-age", cfg: OpenConfig{MaxPlanAge: 2 * time.Hour, Now: at(2 * time.Hour)}},
		{name: "a day old", cfg: OpenConfig{Now: at(25 * time.Hour)}, warnings: []string{"was made 1d1h ago"}},
		{name: "exactly a day old", cfg: OpenConfig{Now: at(24 * time.Hour)}},
		{name: "from the future", cfg: OpenConfig{Now: at(-time.Hour)}, warnings: []string{", 1h in the future"}},
		{name: "from the near future", cfg: OpenConfig{Now: at(-5 * time.Minute)}},
		{name: "from the future, with --max-plan-age", cfg: OpenConfig{MaxPlanAge: 48 * time.Hour, Now: at(-time.Hour)}, usage: ", 1h in the future"},
		{name: "refused at the confirmation", cfg: OpenConfig{Confirm: func(*Run) error { return refuse }}, err: refuse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Plan, cfg.StateDir, cfg.Command = e.plan, e.state, "apply"
			cfg.Results = filepath.Join(t.TempDir(), "r.jsonl")
			run, err := Open(cfg)
			var ue *UsageError
			switch {
			case tt.usage != "":
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.usage) {
					t.Fatalf("Open = %v, want a usage error about %q", err, tt.usage)
				}
			case tt.err != nil:
				if !errors.Is(err, tt.err) || errors.As(err, &ue) {
					t.Fatalf("Open = %v, want %v", err, tt.err)
				}
			case err != nil:
				t.Fatal(err)
			default:
				if len(run.Warnings) != len(tt.warnings) {
					t.Errorf("warnings %q, want %q", run.Warnings, tt.warnings)
				}
				for i, w := range tt.warnings {
					if i < len(run.Warnings) && !strings.Contains(run.Warnings[i], w) {
						t.Errorf("warning %q, want %q", run.Warnings[i], w)
					}
				}
				if run.Results != cfg.Results || run.Resume != nil || run.Source == nil || run.Source.Command != "apply" || run.Source.PlanSHA != p.SHA256 {
					t.Errorf("run %+v, source %+v", run, run.Source)
				}
				if err := run.Close(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if _, err := os.Stat(cfg.Results); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused Open left %s", cfg.Results)
			}
			lk, err := ledger.LockRun(e.state, customer, p.SHA256, "test")
			if err != nil {
				t.Fatalf("the run lock was kept: %v", err)
			}
			_ = lk.Release()
		})
	}
}

// A journal of another plan is refused, an empty one is treated as absent,
// and one of this plan is resumed with its source ID in the ledger.
func TestOpenJournals(t *testing.T) {
	w := nysWorld(2)
	e := newEnv(t, w, emulator.Config{})
	e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})
	results := filepath.Join(e.dir, "plan.results.jsonl")

	other, err := journal.Create(filepath.Join(e.dir, "other.jsonl"), journal.Header{Customer: customer, Plan: journal.PlanRef{Path: "/x/other.jsonl", SHA256: strings.Repeat("cd", 32)}})
	if err != nil {
		t.Fatal(err)
	}
	_ = other.Close()
	_, err = Open(OpenConfig{Plan: e.plan, Results: filepath.Join(e.dir, "other.jsonl"), StateDir: e.state})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "record another plan") {
		t.Fatalf("Open of another plan's journal = %v", err)
	}

	if err := os.WriteFile(results, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	run, err := Open(OpenConfig{Plan: e.plan, StateDir: e.state}) // default results path
	if err != nil {
		t.Fatalf("Open over an empty journal: %v", err)
	}
	if run.Results != results || run.Resume != nil {
		t.Errorf("results %s, resume %v", run.Results, run.Resume)
	}
	id := run.Source.ID
	if err := run.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(results); err != nil || fi.Size() == 0 {
		t.Fatalf("journal after Open: %v, %v", fi, err)
	}
	run, err = Open(OpenConfig{Plan: e.plan, StateDir: e.state, Command: "resume"})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	if run.Resume == nil || run.Source.ID != id || run.Source.Command != "resume" {
		t.Errorf("resumed: state %v, source %+v; want the journal's source %s", run.Resume, run.Source, id)
	}
	if _, err := Open(OpenConfig{Plan: e.plan, Results: filepath.Join(e.dir, "elsewhere.jsonl"), StateDir: e.state}); !errors.Is(err, ledger.ErrBusy) {
		t.Errorf("a second Open of the plan while it runs: %v, want ErrBusy", err)
	}
}

// The refresh reads the items this run will call for afresh: not those
// without a call, nor those an earlier run left pending (read back
// instead), nor those it finished, unless retried.
func TestToRefresh(t *testing.T) {
	item := func(row int, action planner.Action) planner.Item {
		return planner.Item{Row: row, Email: fmt.Sprintf("r%d@example.com", row), Action: action, Reason: planner.ReasonNotYetSent}
	}
	items := []planner.Item{
		item(2, planner.ActionNone), item(3, planner.ActionSend), item(4, planner.ActionSend), item(5, planner.ActionCancel),
		item(6, planner.ActionSend), item(7, planner.ActionSend), item(8, planner.ActionSend), item(9, planner.ActionSend),
	}
	rec := func(it planner.Item, outcome string, notSent bool) journal.Record {
		return journal.Record{Type: journal.TypeOutcome, At: time.Now(), Row: it.Row, Email: it.Email, Action: string(it.Action), Outcome: outcome, NotSent: notSent, Attempts: 1}
	}
	dir := t.TempDir()
	plan := loadedPlan(t, filepath.Join(dir, "plan.jsonl"), items)
	st := journalState(t, filepath.Join(dir, "plan.results.jsonl"),
		journal.Record{Type: journal.TypeIntent, At: time.Now(), Row: items[2].Row, Email: items[2].Email, Action: "send", Attempt: 1},
		rec(items[3], journal.OutcomeDone, false),
		rec(items[4], journal.OutcomeRejected, false),
		rec(items[5], journal.OutcomeFailed, true),
		rec(items[6], journal.OutcomeInDoubt, false))
	rows := func(its Batch) string {
		var b strings.Builder
		for i := range its.Len() {
			fmt.Fprintf(&b, "%d ", its.Item(i).Row)
		}
		return b.String()
	}
	fresh := &Run{Plan: plan}
	if got := rows(fresh.ToRefresh(false)); got != "3 4 5 6 7 8 9 " {
		t.Errorf("a new journal: rows %s", got)
	}
	resumed := &Run{Plan: plan, Resume: st}
	if got := rows(resumed.ToRefresh(false)); got != "3 7 9 " {
		t.Errorf("resume: rows %s, want 3 7 9", got)
	}
	if got := rows(resumed.ToRefresh(true)); got != "3 6 7 9 " {
		t.Errorf("resume --retry-rejected: rows %s, want 3 6 7 9", got)
	}
}

// loadedPlan writes items as a plan at path and loads it as Open does.
func loadedPlan(t *testing.T, path string, items []planner.Item) *planner.Loaded {
	t.Helper()
	fw, err := planner.CreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	hdr := planner.Header{Kind: planner.Kind, Version: planner.Version, Customer: customer, APIVersion: "v1", CreatedAt: time.Now().UTC(),
		Policy: planner.Policy{Action: planner.WantInvite}, Summary: planner.Summary{Reasons: map[string]int{}}}
	for _, it := range items {
		hdr.Summary.Add(it)
		if err := fw.Emit(it); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fw.Commit(hdr); err != nil {
		t.Fatal(err)
	}
	p, err := planner.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// journalState writes recs as a journal at path and reads its state.
func journalState(t *testing.T, path string, recs ...journal.Record) *journal.State {
	t.Helper()
	j, err := journal.Create(path, journal.Header{Customer: customer, APIVersion: "v1", LedgerSource: "0123456789abcdef"})
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
