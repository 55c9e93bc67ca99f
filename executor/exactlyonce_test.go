package executor

import (
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/source"
	"github.com/invitectl/invitectl/planner"
)

// The scenarios of issue 8's table, each through the real generated client
// against the emulator, which counts every email a person receives.

// planLive plans input into path against the server apply acts on,
// consulting the customer's ledger and judging refusals as 'invitectl
// plan' does, and returns the items.
func (e *env) planLive(path, input string, p planner.Policy) []planner.Item {
	e.t.Helper()
	fw, err := planner.CreateFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer fw.Close()
	led, err := ledger.Open(e.state, customer, ledger.Options{Since: time.Now().Add(-planner.DefaultLagWindow)})
	if err != nil {
		e.t.Fatal(err)
	}
	defer led.Close()
	targets := func(fn func(source.Target) error) (source.Info, error) {
		return source.Read(strings.NewReader(input), "campaign.csv", source.Options{}, fn)
	}
	var items []planner.Item
	cfg := planner.Config{Client: e.client, Customer: customer, APIVersion: "v1", Policy: p, Ledger: led,
		Retry: pace.Policy{Base: time.Millisecond, Max: 5 * time.Millisecond, MaxAttempts: 20},
		Judge: invitations.NewJudge(invitations.Probe(e.client, nil))}
	hdr, err := planner.Build(context.Background(), cfg, targets, nil, func(it planner.Item) error {
		items = append(items, it)
		return fw.Emit(it)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := fw.Commit(hdr); err != nil {
		e.t.Fatal(err)
	}
	return items
}

// atMostOne returns every account's email count, and fails the test when
// anyone received more than one.
func (e *env) atMostOne() map[string]int {
	e.t.Helper()
	out := map[string]int{}
	for _, a := range e.srv.State().Accounts {
		out[a.Email] = a.Emails
		if a.Emails > 1 {
			e.t.Errorf("%s received %d emails", a.Email, a.Emails)
		}
	}
	return out
}

func journalOutcomes(t *testing.T, path string) map[string]journal.Record {
	t.Helper()
	st, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return maps.Collect(st.Finals())
}

// One plan applied with --results r1.jsonl, then r2.jsonl, then the default
// journal: the second and third email nobody, and say why.
func TestSecondJournalEmailsNobody(t *testing.T) {
	w := world(120)
	for _, noRefresh := range []bool{false, true} {
		t.Run(fmt.Sprintf("noRefresh=%v", noRefresh), func(t *testing.T) {
			e := newEnv(t, w, emulator.Config{})
			e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})
			sends := len(e.planned()[planner.ActionSend])
			r1 := filepath.Join(e.dir, "r1.jsonl")
			if _, err := e.apply(applyOpts{results: r1}); err != nil {
				t.Fatal(err)
			}
			for _, results := range []string{filepath.Join(e.dir, "r2.jsonl"), ""} {
				stats, err := e.apply(applyOpts{results: results, noRefresh: noRefresh})
				if err != nil {
					t.Fatal(err)
				}
				if stats.Done.Load() != 0 || stats.Calls.Load() != 0 || stats.Conflicts.Load()+stats.Moved.Load() != int64(sends) {
					t.Fatalf("%s: done %d, calls %d, conflicts %d, moved %d; want %d items skipped and no call",
						results, stats.Done.Load(), stats.Calls.Load(), stats.Conflicts.Load(), stats.Moved.Load(), sends)
				}
				if results == "" {
					results = filepath.Join(e.dir, "plan.results.jsonl")
				}
				for _, rec := range journalOutcomes(t, results) {
					if rec.Action != "send" {
						continue
					}
					switch {
					case rec.Outcome == journal.OutcomeSkipped && rec.Reason == planner.ReasonAlreadySent:
						if !strings.Contains(rec.Message, r1) {
							t.Errorf("%s: %q does not name the journal that sent", rec.Email, rec.Message)
						}
					case rec.Outcome == journal.OutcomeSkipped && rec.Reason == planner.ReasonChangedSincePlan && !noRefresh:
					default:
						t.Errorf("%s: %+v", rec.Email, rec)
					}
				}
			}
			emails := e.atMostOne()
			for email, rec := range journalOutcomes(t, r1) {
				if rec.Outcome == journal.OutcomeDone && emails[email] != 1 {
					t.Errorf("%s: done in r1 with %d emails", email, emails[email])
				}
			}
		})
	}
}

// Two campaigns of the same list, planned and applied at the same time (two
// 'invitectl run' a second apart): everyone is emailed once.
func TestOverlappingRuns(t *testing.T) {
	w := world(300)
	e := newEnv(t, w, emulator.Config{Latency: time.Millisecond})
	plans := []string{filepath.Join(e.dir, "a.jsonl"), filepath.Join(e.dir, "b.jsonl")}
	for _, p := range plans {
		e.planLive(p, campaign(w), planner.Policy{Action: planner.WantInvite})
	}
	var wg sync.WaitGroup
	stats := make([]*Stats, 2)
	for k, p := range plans {
		wg.Go(func() {
			e2 := *e
			e2.plan = p
			s, err := e2.apply(applyOpts{results: strings.TrimSuffix(p, ".jsonl") + ".results.jsonl"})
			if err != nil {
				t.Error(err)
			}
			stats[k] = s
		})
	}
	wg.Wait()
	got := e.atMostOne()
	want := 0
	for _, u := range w.Users {
		if u.Kind != "managed" && (u.State == "" || u.State == "NOT_YET_SENT") {
			want++
			if got[u.Email] != 1 {
				t.Errorf("%s received %d emails, want 1", u.Email, got[u.Email])
			}
		}
	}
	if done := stats[0].Done.Load() + stats[1].Done.Load(); done != int64(want) {
		t.Fatalf("done %d + %d, want %d in all", stats[0].Done.Load(), stats[1].Done.Load(), want)
	}
}

// Ten of the plan's addresses are invited by another administrator between
// plan and apply: the refresh skips them, and nobody gets a second email.
func TestStalePlan(t *testing.T) {
	w := world(100)
	e := newEnv(t, w, emulator.Config{})
	items := e.planLive(e.plan, campaign(w), planner.Policy{Action: planner.WantInvite})
	var others []string
	for _, it := range items {
		if it.Action == planner.ActionSend && it.Observed != nil && len(others) < 10 {
			others = append(others, it.Email)
			if err := e.srv.Act(it.Email, emulator.ActSend); err != nil {
				t.Fatal(err)
			}
		}
	}
	stats, err := e.apply(applyOpts{})
	if err != nil {
		t.Fatal(err)
	}
	outs := e.outcomes()
	for _, email := range others {
		if o := outs[email]; o.Outcome != journal.OutcomeSkipped || o.Reason != planner.ReasonChangedSincePlan || !strings.Contains(o.Message, "now INVITED with 1 mail") {
			t.Errorf("%s: %+v", email, o)
		}
	}
	if stats.Moved.Load() != 10 {
		t.Errorf("moved %d, want 10", stats.Moved.Load())
	}
	e.atMostOne()
}

// A campaign, then the same list planned and applied again while get and
// list do not show the invitations that the first run's sends created for
// accounts younger than 48 hours: the ledger stops every second email.
func TestReplanInTheLagWindow(t *testing.T) {
	w := emulator.World{Customer: customer}
	var csv strings.Builder
	csv.WriteString("email\n")
	for i := range 40 {
		u := emulator.User{Email: fmt.Sprintf("p%02d@example.com", i), Recent: i%2 == 0}
		w.Users = append(w.Users, u)
		csv.WriteString(u.Email + "\n")
	}
	e := newEnv(t, w, emulator.Config{SendVisibilityLag: time.Hour})
	first := e.planLive(e.plan, csv.String(), planner.Policy{Action: planner.WantInvite})
	for _, it := range first {
		if it.Action != planner.ActionSend {
			t.Fatalf("first plan: %+v", it)
		}
	}
	if _, err := e.apply(applyOpts{}); err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(e.dir, "again.jsonl")
	second := e.planLive(again, csv.String(), planner.Policy{Action: planner.WantInvite})
	for _, it := range second {
		recent := strings.TrimSuffix(strings.TrimPrefix(it.Email, "p"), "@example.com")[1]%2 == 0
		switch {
		case it.Action != planner.ActionNone:
			t.Errorf("second plan sends again: %+v", it)
		case recent && (it.Reason != planner.ReasonRecentlySent || !strings.Contains(it.Detail, "plan.results.jsonl")):
			t.Errorf("a recent account: %+v, want recently_sent naming the journal", it)
		case !recent && it.Reason != planner.ReasonAlreadyInvited:
			t.Errorf("a listed account: %+v, want already_invited", it)
		}
	}
	e.plan = again
	if _, err := e.apply(applyOpts{results: filepath.Join(e.dir, "again.results.jsonl")}); err != nil {
		t.Fatal(err)
	}
	for email, n := range e.atMostOne() {
		if n != 1 {
			t.Errorf("%s received %d emails", email, n)
		}
	}
}

// A send held in transit past the client's timeout lands later: the item is
// read back only after the settle delay, sees the email, and is done, with
// one email. With a settle delay shorter than the hold, the read-back sees
// no change and the send is repeated: the delay is what protects.
func TestLateRequest(t *testing.T) {
	for _, tt := range []struct {
		settle time.Duration
		emails int
	}{{600 * time.Millisecond, 1}, {20 * time.Millisecond, 2}} {
		t.Run(tt.settle.String(), func(t *testing.T) {
			w := emulator.World{Customer: customer, Users: []emulator.User{
				{Email: "late@example.com", Hold: map[string]emulator.Duration{"send": emulator.Duration(300 * time.Millisecond)}},
				{Email: "other@example.com"},
			}}
			e := newEnv(t, w, emulator.Config{})
			e.makePlan("email\nlate@example.com\nother@example.com\n", planner.Policy{Action: planner.WantInvite})
			hs := httptest.NewServer(e.srv)
			t.Cleanup(hs.Close)
			impatient, err := invitations.New(context.Background(), invitations.Config{Customer: customer, Endpoint: hs.URL, CallTimeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			stats, err := e.apply(applyOpts{client: impatient, settle: tt.settle})
			if err != nil {
				t.Fatal(err)
			}
			e.srv.WaitHeld()
			a, _ := e.srv.State().Account("late@example.com")
			if a.Emails != tt.emails {
				t.Fatalf("late@ received %d emails, want %d", a.Emails, tt.emails)
			}
			if tt.emails == 1 {
				o := e.outcomes()["late@example.com"]
				if o.Outcome != journal.OutcomeDone || !strings.Contains(o.Detail, "reconciled") || stats.Reconciled.Load() != 1 {
					t.Fatalf("late@: %+v (reconciled %d)", o, stats.Reconciled.Load())
				}
			}
		})
	}
}

// send answers 403, 404 or 400 for one address each while everything else
// works: those items are rejected with the API's message, the run goes on,
// a resume leaves them alone, and --retry-rejected tries them again.
func TestPerAddressRefusalsInApply(t *testing.T) {
	w := world(40)
	refused := map[string]int{"user0000@example.com": 403, "user0006@example.com": 404, "user0007@example.com": 400}
	for i := range w.Users {
		if code, ok := refused[w.Users[i].Email]; ok {
			w.Users[i].Refuse = map[string]int{"send": code}
		}
	}
	e := newEnv(t, w, emulator.Config{})
	e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})
	stats, err := e.apply(applyOpts{judge: true})
	if err != nil {
		t.Fatalf("a refusal of one address stopped the run: %v", err)
	}
	outs := e.outcomes()
	for email, code := range refused {
		if o := outs[email]; o.Outcome != journal.OutcomeRejected || o.HTTPCode != code || strings.Contains(o.Message, "--customer") {
			t.Errorf("%s: %+v", email, o)
		}
	}
	if stats.Rejected.Load() != 3 || stats.Done.Load() == 0 {
		t.Fatalf("rejected %d done %d", stats.Rejected.Load(), stats.Done.Load())
	}
	sends := e.srv.State().Calls["send"]
	if _, err := e.apply(applyOpts{judge: true}); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.State().Calls["send"]; n != sends {
		t.Fatalf("resume made %d more sends, want none", n-sends)
	}
	stats, err = e.apply(applyOpts{judge: true, retryRejected: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.srv.State().Calls["send"]; n != sends+3 || stats.Rejected.Load() != 3 {
		t.Fatalf("--retry-rejected made %d sends (rejected %d), want the 3 again", n-sends, stats.Rejected.Load())
	}
}

// A 403 that a probe with the same token confirms (another customer's ID)
// still stops the run at once as a credential failure.
func TestCredentialFailureStillStops(t *testing.T) {
	w := world(50)
	e := newEnv(t, w, emulator.Config{})
	e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})
	other, err := invitations.New(context.Background(), invitations.Config{Customer: "C0other", Endpoint: e.url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.apply(applyOpts{client: other, judge: true, noRefresh: true})
	if !invitations.IsAuth(err) || !strings.Contains(err.Error(), "probe") {
		t.Fatalf("err = %v, want a credential failure confirmed by the probe", err)
	}
	if n := e.srv.State().Calls["send"]; n > 16 {
		t.Fatalf("%d sends attempted after the first credential failure (16 workers)", n)
	}
}

// A journal left empty (by an older invitectl killed between creating it and
// writing its header, or by hand) is treated as absent.
func TestEmptyJournalIsAbsent(t *testing.T) {
	w := world(20)
	e := newEnv(t, w, emulator.Config{})
	e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})
	results := filepath.Join(e.dir, "plan.results.jsonl")
	if err := os.WriteFile(results, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	stats, err := e.apply(applyOpts{})
	if err != nil || stats.Done.Load() == 0 {
		t.Fatalf("apply over an empty journal: %v (done %d)", err, stats.Done.Load())
	}
}
