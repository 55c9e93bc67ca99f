package executor

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/planner"
)

// scripted wraps the real client and, for one address, answers its first
// sends with scripted errors: "quota" (nothing happened), "503" (nothing
// happened, but the caller cannot know) or "503-after" (the real send is
// made, then an error is returned).
type scripted struct {
	Client
	email  string
	mu     sync.Mutex
	script []string
}

func (s *scripted) Send(ctx context.Context, email string) (invitations.Result, error) {
	s.mu.Lock()
	var step string
	if email == s.email && len(s.script) > 0 {
		step, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	switch step {
	case "quota":
		return invitations.Result{}, &invitations.Error{Kind: invitations.KindQuota, Method: "send", Email: email, HTTPCode: 429, Status: "RESOURCE_EXHAUSTED"}
	case "503":
		return invitations.Result{}, &invitations.Error{Kind: invitations.KindAmbiguous, Method: "send", Email: email, HTTPCode: 503, Status: "UNAVAILABLE"}
	case "503-after":
		if _, err := s.Client.Send(ctx, email); err != nil {
			return invitations.Result{}, err
		}
		return invitations.Result{}, &invitations.Error{Kind: invitations.KindAmbiguous, Method: "send", Email: email, HTTPCode: 503, Status: "UNAVAILABLE"}
	}
	return s.Client.Send(ctx, email)
}

func repeat(step string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = step
	}
	return out
}

func budgetEnv(t *testing.T) *env {
	w := emulator.World{Customer: customer, Users: []emulator.User{{Email: "a@example.com"}, {Email: "b@example.com"}}}
	e := newEnv(t, w, emulator.Config{})
	e.makePlan("email\na@example.com\nb@example.com\n", planner.Policy{Action: planner.WantInvite})
	return e
}

// Quota errors past the retry budget end the item failed but retryable: a
// resume sends it, once.
func TestQuotaBudgetThenResume(t *testing.T) {
	e := budgetEnv(t)
	c := &scripted{Client: e.client, email: "a@example.com", script: repeat("quota", 30)}
	if _, err := e.apply(applyOpts{client: c}); err != nil {
		t.Fatal(err)
	}
	o := e.outcomes()["a@example.com"]
	if o.Outcome != journal.OutcomeFailed || !o.NotSent || o.QuotaErrors != 30 {
		t.Fatalf("after the budget: %+v", o)
	}
	if a, _ := e.srv.State().Account("a@example.com"); a.Sends != 0 {
		t.Fatalf("%d sends", a.Sends)
	}
	stats, err := e.apply(applyOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := e.srv.State().Account("a@example.com"); a.Sends != 1 || e.outcomes()["a@example.com"].Outcome != journal.OutcomeDone {
		t.Fatalf("after resume: %+v, %+v", a, e.outcomes()["a@example.com"])
	}
	if stats.Calls.Load() != 1 {
		t.Fatalf("resume made %d calls, want 1", stats.Calls.Load())
	}
}

// Many quota errors then a 503 after the change: the read-back finds the
// email sent, whatever the attempts so far.
func TestReadBackComesBeforeTheBudget(t *testing.T) {
	e := budgetEnv(t)
	c := &scripted{Client: e.client, email: "a@example.com", script: append(repeat("quota", 29), "503-after")}
	stats, err := e.apply(applyOpts{client: c})
	if err != nil {
		t.Fatal(err)
	}
	o := e.outcomes()["a@example.com"]
	if a, _ := e.srv.State().Account("a@example.com"); a.Sends != 1 || o.Outcome != journal.OutcomeDone || stats.Reconciled.Load() != 1 {
		t.Fatalf("account %+v, outcome %+v, %d read-backs", a, o, stats.Reconciled.Load())
	}
}

// Ambiguous failures that never take effect are each read back once, after
// the settle delay, and after the budget the item is failed but retryable.
func TestAmbiguousBudget(t *testing.T) {
	e := budgetEnv(t)
	c := &scripted{Client: e.client, email: "a@example.com", script: repeat("503", 100)}
	stats, err := e.apply(applyOpts{client: c})
	if err != nil {
		t.Fatal(err)
	}
	o := e.outcomes()["a@example.com"]
	if o.Outcome != journal.OutcomeFailed || !o.NotSent || int64(o.Attempts) != stats.Reconciled.Load() {
		t.Fatalf("outcome %+v after %d read-backs", o, stats.Reconciled.Load())
	}
	if a, _ := e.srv.State().Account("a@example.com"); a.Sends != 0 {
		t.Fatalf("%d sends", a.Sends)
	}
}

// A resume that retries an item an earlier run left failed, and cannot
// write that call's intent, releases the reservation it made for it: the
// address is not left in_flight for every other run.
func TestRetryWhoseIntentFailsReleasesItsReservation(t *testing.T) {
	e := budgetEnv(t)
	c := &scripted{Client: e.client, email: "a@example.com", script: repeat("quota", 30)}
	if _, err := e.apply(applyOpts{client: c}); err != nil {
		t.Fatal(err)
	}
	if o := e.outcomes()["a@example.com"]; o.Outcome != journal.OutcomeFailed || o.Attempts == 0 {
		t.Fatalf("after the budget: %+v", o)
	}
	dj := &durableJournal{failIntent: "a@example.com", durable: map[string]int{}}
	_, err := e.applyMech(mech{workers: 1, journal: func(j Journal) Journal { dj.Journal = j; return dj }})
	if err == nil || !strings.Contains(err.Error(), "record intent") {
		t.Fatalf("resume = %v, want the intent's write error", err)
	}
	l, err := ledger.Open(e.state, customer, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if call, ok := l.Latest("a@example.com"); ok && call.Effect == ledger.Pending {
		t.Fatalf("a@ still reserved: %+v", call)
	}
	if a, _ := e.srv.State().Account("a@example.com"); a.Sends != 0 {
		t.Fatalf("%d sends", a.Sends)
	}
}

// interrupting answers the first send to email with a 429 and interrupts
// the run at that moment: the interrupt finds the item waiting to retry.
type interrupting struct {
	Client
	email string
	stop  context.CancelFunc
	once  sync.Once
}

func (c *interrupting) Send(ctx context.Context, email string) (invitations.Result, error) {
	stopped := false
	if email == c.email {
		c.once.Do(func() { c.stop(); stopped = true })
	}
	if stopped {
		return invitations.Result{}, &invitations.Error{Kind: invitations.KindQuota, Method: "send", Email: email, HTTPCode: 429, Status: "RESOURCE_EXHAUSTED"}
	}
	return c.Client.Send(ctx, email)
}

// An interrupt while an item waits to retry after a 429 settles it as not
// sent, its reservation released: the resume calls it at once, with no
// read-back and no settle delay.
func TestInterruptInABackoffSettlesTheItem(t *testing.T) {
	e := budgetEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &interrupting{Client: e.client, email: "a@example.com", stop: cancel}
	if _, err := e.applyMech(mech{ctx: ctx, client: c, workers: 1}); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Apply = %v, want ErrInterrupted", err)
	}
	if o := e.outcomes()["a@example.com"]; o.Outcome != journal.OutcomeFailed || !o.NotSent || o.HTTPCode != 429 {
		t.Fatalf("after the interrupt: %+v", o)
	}
	l, err := ledger.Open(e.state, customer, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if call, ok := l.Latest("a@example.com"); ok {
		t.Fatalf("a@ still held in the ledger: %+v", call)
	}
	_ = l.Close()
	stats, err := e.applyMech(mech{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Reconciled.Load() != 0 {
		t.Errorf("%d read-backs; the 429 said nothing was sent", stats.Reconciled.Load())
	}
	if a, _ := e.srv.State().Account("a@example.com"); a.Sends != 1 || e.outcomes()["a@example.com"].Outcome != journal.OutcomeDone {
		t.Fatalf("after the resume: %d sends, %+v", a.Sends, e.outcomes()["a@example.com"])
	}
}
