package executor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/planner"
)

// TestFaultsNoDuplicates: 5% 429, 5% 503, 3% 503 after the change, 2%
// resets on every call. One apply plus at most one resume finishes every
// item with no duplicate email, and in_doubt only where get could not show
// the invitation (an account still invisible, never sent to).
func TestFaultsNoDuplicates(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			w := world(600)
			e := newEnv(t, w, emulator.Config{Fault429: 0.05, Fault503: 0.05, Fault503After: 0.03, FaultReset: 0.02, Seed: seed})
			e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})

			stats, err := e.apply(applyOpts{})
			if err != nil {
				t.Fatal(err)
			}
			if stats.Finished() != stats.Total.Load() {
				t.Logf("first apply finished %d of %d; resuming", stats.Finished(), stats.Total.Load())
				if _, err := e.apply(applyOpts{}); err != nil {
					t.Fatal(err)
				}
			}
			st := e.srv.State()
			outs := e.outcomes()
			inDoubt := 0
			for _, it := range e.planned()[planner.ActionSend] {
				a, _ := st.Account(it.Email)
				o, ok := outs[it.Email]
				if !ok {
					t.Errorf("%s: no outcome", it.Email)
					continue
				}
				switch o.Outcome {
				case journal.OutcomeDone:
					if a.Sends != 1 {
						t.Errorf("%s done with %d sends", it.Email, a.Sends)
					}
				case journal.OutcomeInDoubt:
					inDoubt++
					if a.Visible || a.Sends != 0 || a.FaultsBefore == 0 {
						t.Errorf("%s in doubt but the emulator shows it decidable: %+v", it.Email, a)
					}
				default:
					t.Errorf("%s: unexpected outcome %+v", it.Email, o)
				}
			}
			for _, a := range st.Accounts {
				if a.Sends > 1 {
					t.Errorf("%s received %d emails", a.Email, a.Sends)
				}
			}
			f := st.Faults
			if f["429"] == 0 || f["503"] == 0 || f["503_after"] == 0 || f["reset"]+f["reset_after"] == 0 {
				t.Fatalf("not every fault happened: %v", f)
			}
			t.Logf("faults %v, in doubt %d", f, inDoubt)
		})
	}
}

// TestResumeReconcilesIntents: a run killed during calls leaves intents
// without outcomes; the next run reads each invitation back and calls only
// where nothing happened.
func TestResumeReconcilesIntents(t *testing.T) {
	w := emulator.World{Customer: customer, Users: []emulator.User{
		{Email: "sent@example.com"}, {Email: "unsent@example.com"}, {Email: "gap@example.com", Recent: true},
		{Email: "untouched@example.com"},
	}}
	e := newEnv(t, w, emulator.Config{})
	e.makePlan("email\nsent@example.com\nunsent@example.com\ngap@example.com\nuntouched@example.com\n", planner.Policy{Action: planner.WantInvite})

	// The "killed" run: intents for three items; only the first call landed.
	path := filepath.Join(e.dir, "plan.results.jsonl")
	p, err := planner.Load(e.plan)
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Create(path, journal.Header{Plan: journal.PlanRef{Path: e.plan, SHA256: p.SHA256}, Customer: customer})
	if err != nil {
		t.Fatal(err)
	}
	for i, email := range []string{"sent@example.com", "unsent@example.com", "gap@example.com"} {
		if err := j.Append(journal.Record{Type: journal.TypeIntent, At: time.Now(), Row: i + 2, Email: email, Action: "send", Reason: "x", Attempt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Send(context.Background(), "sent@example.com"); err != nil {
		t.Fatal(err)
	}

	stats, err := e.apply(applyOpts{})
	if err != nil {
		t.Fatal(err)
	}
	st := e.srv.State()
	outs := e.outcomes()
	for email, want := range map[string]struct {
		sends   int
		outcome string
	}{
		"sent@example.com":      {1, journal.OutcomeDone},
		"unsent@example.com":    {1, journal.OutcomeDone},
		"gap@example.com":       {0, journal.OutcomeInDoubt},
		"untouched@example.com": {1, journal.OutcomeDone},
	} {
		a, _ := st.Account(email)
		if a.Sends != want.sends || outs[email].Outcome != want.outcome {
			t.Errorf("%s: %d sends, outcome %+v; want %d, %s", email, a.Sends, outs[email], want.sends, want.outcome)
		}
	}
	if stats.Reconciled.Load() != 3 {
		t.Errorf("%d reconciling reads, want 3", stats.Reconciled.Load())
	}
	if o := outs["sent@example.com"]; o.Attempts != 1 {
		t.Errorf("sent: attempts %d, want the 1 of the killed run", o.Attempts)
	}
	if o := outs["unsent@example.com"]; o.Attempts != 2 {
		t.Errorf("unsent: attempts %d, want 2 (one lost, one made)", o.Attempts)
	}

	// --retry-in-doubt: still invisible, so still in doubt, still not sent.
	if _, err := e.apply(applyOpts{retryInDoubt: true}); err != nil {
		t.Fatal(err)
	}
	if a, _ := e.srv.State().Account("gap@example.com"); a.Sends != 0 || e.outcomes()["gap@example.com"].Outcome != journal.OutcomeInDoubt {
		t.Fatalf("gap after --retry-in-doubt: %+v", a)
	}
}

// TestInterruptThenResume: an interrupt stops new work, lets calls in flight
// finish, and a resume completes the campaign exactly once.
func TestInterruptThenResume(t *testing.T) {
	w := world(300)
	e := newEnv(t, w, emulator.Config{Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond})
	e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	stats, err := e.apply(applyOpts{ctx: ctx})
	if err != ErrInterrupted {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if total := stats.Total.Load(); total > 0 && stats.Finished() >= total {
		t.Skip("the run finished before the interrupt; nothing to test on this machine")
	}
	if _, err := os.Stat(filepath.Join(e.dir, "plan.results.jsonl")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.apply(applyOpts{}); err != nil {
		t.Fatal(err)
	}
	st := e.srv.State()
	sends := 0
	for _, a := range st.Accounts {
		if a.Sends > 1 {
			t.Errorf("%s received %d emails", a.Email, a.Sends)
		}
		sends += a.Sends
	}
	if sends != len(e.planned()[planner.ActionSend]) {
		t.Fatalf("%d sends for %d planned", sends, len(e.planned()[planner.ActionSend]))
	}
}
