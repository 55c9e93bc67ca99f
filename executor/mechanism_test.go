package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/planner"
)

// These tests guard the mechanism of exactly-once, not only its outcome:
// the order "intent durable, then call", the read-back's verdicts, and what
// the executor tells the pacer. Each names the deliberate bug it catches.

// mech is one Apply with the seams a mechanism test needs.
type mech struct {
	client  Client
	journal func(Journal) Journal
	ledger  *ledger.Ledger // nil: the one Open reads
	write   *pace.Limiter  // nil: unlimited
	workers int            // zero: 16
	ctx     context.Context
	items   func(Items) Items // wraps the plan's items
	results string            // the journal; empty: beside the plan
}

// applyMech opens the plan as apply does and runs Apply with m's seams.
func (e *env) applyMech(m mech) (*Stats, error) {
	e.t.Helper()
	run, err := Open(OpenConfig{Plan: e.plan, Results: m.results, StateDir: e.state, Command: "apply"})
	if err != nil {
		e.t.Fatal(err)
	}
	defer run.Close()
	cfg := Config{
		Client: e.client, Journal: run.Journal, Resume: run.Resume, Write: m.write, Read: pace.NewLimiter(0),
		MaxWorkers: 16, Drain: 5 * time.Second, SettleDelay: 20 * time.Millisecond,
		Retry:  pace.Policy{Base: time.Millisecond, Max: 5 * time.Millisecond, MaxAttempts: 10},
		Ledger: run.Ledger, Source: run.Source, PlanCreated: run.Plan.Header.CreatedAt,
	}
	if m.client != nil {
		cfg.Client = m.client
	}
	if m.journal != nil {
		cfg.Journal = m.journal(run.Journal)
	}
	if m.ledger != nil {
		cfg.Ledger = m.ledger
	}
	if cfg.Write == nil {
		cfg.Write = pace.NewLimiter(0)
	}
	if m.workers > 0 {
		cfg.MaxWorkers = m.workers
	}
	ctx, items := m.ctx, run.Items()
	if ctx == nil {
		ctx = context.Background()
	}
	if m.items != nil {
		items = m.items(items)
	}
	stats := new(Stats)
	err = Apply(ctx, cfg, items, stats)
	return stats, err
}

// durableJournal wraps the real journal and knows, by the Journal
// contract, which intents are durable: those of an Append that returned,
// and those queued by AppendAsync before an Append that returned began.
// failIntent, when set, fails the Append of a matching intent as a full
// disk would, before anything is written.
type durableJournal struct {
	Journal
	failIntent string

	mu      sync.Mutex
	queued  []journal.Record
	durable map[string]int // email → highest durable intent attempt
	// lazy are the outcomes of items that made calls appended without
	// waiting for them to be durable.
	lazy []string
}

func (j *durableJournal) Append(recs ...journal.Record) error {
	for _, r := range recs {
		if r.Type == journal.TypeIntent && r.Email == j.failIntent {
			return errors.New("write results journal: no space left on device")
		}
	}
	j.mu.Lock()
	before := j.queued
	j.queued = nil
	j.mu.Unlock()
	if err := j.Journal.Append(recs...); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, r := range append(before, recs...) {
		if r.Type == journal.TypeIntent && r.Attempt > j.durable[r.Email] {
			j.durable[r.Email] = r.Attempt
		}
	}
	return nil
}

// AppendAsync holds the lock while it queues, so that what Append saw
// queued is in the real journal's queue before Append's own records.
func (j *durableJournal) AppendAsync(recs ...journal.Record) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, r := range recs {
		if r.Type == journal.TypeOutcome && r.Attempts > 0 {
			j.lazy = append(j.lazy, r.Email)
		}
	}
	j.queued = append(j.queued, recs...)
	j.Journal.AppendAsync(recs...)
}

func (j *durableJournal) intentAttempt(email string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.durable[email]
}

// durableLedger is a ledger's sync seam: it reads the file at each fsync
// and, once the fsync returned, counts the intents in it as durable; or it
// fails the fsync of the batch holding failIntent's intent.
type durableLedger struct {
	failIntent string

	mu       sync.Mutex
	reserved map[string]int // email → durable intent records
}

func (d *durableLedger) sync(f *os.File) error {
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return err
	}
	intents := map[string]int{}
	for line := range bytes.Lines(b) {
		fields := strings.Split(strings.TrimSuffix(string(line), "\n"), "\t")
		if len(fields) == 5 && fields[0] == "i" {
			intents[fields[4]]++
		}
	}
	if d.failIntent != "" && intents[d.failIntent] > 0 {
		return errors.New("input/output error")
	}
	if err := f.Sync(); err != nil {
		return err
	}
	d.mu.Lock()
	d.reserved = intents
	d.mu.Unlock()
	return nil
}

func (d *durableLedger) intents(email string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reserved[email]
}

// orderClient checks, as each send leaves, that its intent (the n-th
// call for an address needs the intent of attempt n) is durable in the
// journal, and that the address's reservation is durable in the ledger.
// quotaFirst answers its address's first send with a 429, so that the
// retry needs an intent of its own.
type orderClient struct {
	Client
	journal    *durableJournal
	ledger     *durableLedger
	quotaFirst string

	mu         sync.Mutex
	calls      map[string]int
	violations []string
}

func (c *orderClient) Send(ctx context.Context, email string) (invitations.Result, error) {
	c.mu.Lock()
	c.calls[email]++
	n := c.calls[email]
	if got := c.journal.intentAttempt(email); got < n {
		c.violations = append(c.violations, fmt.Sprintf("send %d to %s left with the journal's durable intents only up to attempt %d", n, email, got))
	}
	if c.ledger.intents(email) == 0 {
		c.violations = append(c.violations, fmt.Sprintf("send %d to %s left before its reservation in the ledger was durable", n, email))
	}
	c.mu.Unlock()
	if n == 1 && email == c.quotaFirst {
		return invitations.Result{}, &invitations.Error{Kind: invitations.KindQuota, Method: "send", Email: email, HTTPCode: 429, Status: "RESOURCE_EXHAUSTED"}
	}
	return c.Client.Send(ctx, email)
}

func (c *orderClient) sent() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.calls)
}

// nysWorld has n accounts, all NOT_YET_SENT.
func nysWorld(n int) emulator.World {
	w := emulator.World{Customer: customer}
	for i := range n {
		w.Users = append(w.Users, emulator.User{Email: fmt.Sprintf("p%03d@example.com", i)})
	}
	return w
}

// No send leaves before its intent is durable in the journal and its
// reservation durable in the ledger; a failed intent write, or a failed
// ledger fsync, sends nothing more and stops the run. Catches: the intent
// appended with AppendAsync, or not at all; the reservation made after the
// send, not synced, or its failure ignored; an intent error ignored.
func TestNoSendBeforeItsIntentIsDurable(t *testing.T) {
	const n = 12
	victim := "p002@example.com" // the third item
	tests := []struct {
		name          string
		workers       int
		failJournal   string
		failLedger    string
		wantErr       string
		wantSentAtAll int // sends the server counts
	}{
		{name: "one worker", workers: 1, wantSentAtAll: n},
		{name: "eight workers", workers: 8, wantSentAtAll: n},
		{name: "intent write fails", workers: 1, failJournal: victim, wantErr: "record intent", wantSentAtAll: 2},
		{name: "ledger fsync fails", workers: 1, failLedger: victim, wantErr: "ledger", wantSentAtAll: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := nysWorld(n)
			e := newEnv(t, w, emulator.Config{})
			e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})
			dl := &durableLedger{failIntent: tt.failLedger}
			led, err := ledger.Open(t.TempDir(), customer, ledger.Options{Sync: dl.sync})
			if err != nil {
				t.Fatal(err)
			}
			defer led.Close()
			dj := &durableJournal{failIntent: tt.failJournal, durable: map[string]int{}}
			c := &orderClient{Client: e.client, journal: dj, ledger: dl, quotaFirst: "p005@example.com", calls: map[string]int{}}
			stats, err := e.applyMech(mech{client: c, ledger: led, workers: tt.workers,
				journal: func(j Journal) Journal { dj.Journal = j; return dj }})

			for _, v := range c.violations {
				t.Error(v)
			}
			if len(dj.lazy) > 0 {
				t.Errorf("outcomes of calls appended without waiting for them to be durable: %v", dj.lazy)
			}
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Apply = %v, want an error about %q", err, tt.wantErr)
			}
			st := e.srv.State()
			if got := st.Calls["send"]; got != tt.wantSentAtAll {
				t.Errorf("the server got %d sends, want %d", got, tt.wantSentAtAll)
			}
			if tt.wantErr != "" {
				if got := c.sent()[victim]; got != 0 {
					t.Errorf("%d sends to %s, whose intent was never durable", got, victim)
				}
				// The reservation of a call that never left is released.
				if call, ok := led.Latest(victim); tt.failJournal != "" && ok {
					t.Errorf("%s still held in the ledger: %+v", victim, call)
				}
				return
			}
			for _, a := range st.Accounts {
				if a.Sends != 1 {
					t.Errorf("%s: %d sends", a.Email, a.Sends)
				}
			}
			if stats.Done.Load() != n {
				t.Errorf("%d done, want %d", stats.Done.Load(), n)
			}
			if o := e.outcomes()["p005@example.com"]; o.Attempts != 2 || o.QuotaErrors != 1 {
				t.Errorf("the item refused once for quota: %+v, want 2 attempts, 1 quota error", o)
			}
		})
	}
}

// TestCompare is the read-back's decision, branch by branch. Catches any
// flipped or dropped branch of compare, such as the cancel half's, where
// an unchanged INVITED taken for "cancelled" would record a cancel that
// never happened as done, or the "accepted in the meantime" branch.
func TestCompare(t *testing.T) {
	t1 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Minute)
	obs := func(st invitations.State, mails int64) *planner.Observed {
		return &planner.Observed{State: st, MailsSentCount: mails, UpdateTime: t1}
	}
	inv := func(st invitations.State, mails int64, at time.Time) invitations.Invitation {
		return invitations.Invitation{Email: "a@example.com", State: st, MailsSentCount: mails, UpdateTime: at}
	}
	const (
		nys      = invitations.StateNotYetSent
		invited  = invitations.StateInvited
		accepted = invitations.StateAccepted
		declined = invitations.StateDeclined
	)
	tests := []struct {
		name   string
		action planner.Action
		obs    *planner.Observed
		now    invitations.Invitation
		want   verdict
		detail string
	}{
		// cancel
		{"cancel took effect", planner.ActionCancel, obs(invited, 1), inv(nys, 1, t2), happened, "cancelled"},
		{"cancel: unchanged", planner.ActionCancel, obs(invited, 1), inv(invited, 1, t1), notHappened, ""},
		{"cancel: accepted", planner.ActionCancel, obs(invited, 1), inv(accepted, 1, t2), moved, "cannot cancel"},
		{"cancel: declined", planner.ActionCancel, obs(invited, 1), inv(declined, 1, t2), moved, "cannot cancel"},
		{"cancel: re-sent by someone", planner.ActionCancel, obs(invited, 1), inv(invited, 2, t2), undecidable, "without being cancelled"},
		{"cancel: touched, same count", planner.ActionCancel, obs(invited, 1), inv(invited, 1, t2), undecidable, "without being cancelled"},
		{"cancel: nothing observed", planner.ActionCancel, nil, inv(invited, 1, t1), undecidable, "without being cancelled"},
		// send, not listed when planned
		{"unlisted: invitation exists", planner.ActionSend, nil, inv(invited, 1, t2), happened, "now exists"},
		{"unlisted: visible, unsent", planner.ActionSend, nil, inv(nys, 0, t2), notHappened, ""},
		{"unlisted: visible, mailed before", planner.ActionSend, nil, inv(nys, 1, t2), undecidable, "not listed when planned"},
		{"unlisted: accepted", planner.ActionSend, nil, inv(accepted, 1, t2), undecidable, "not listed when planned"},
		// send, listed
		{"one more mail", planner.ActionSend, obs(nys, 0), inv(invited, 1, t2), happened, "mailsSentCount 0 -> 1"},
		{"resend: one more mail", planner.ActionSend, obs(invited, 1), inv(invited, 2, t2), happened, "mailsSentCount 1 -> 2"},
		{"unchanged", planner.ActionSend, obs(nys, 0), inv(nys, 0, t1), notHappened, ""},
		{"resend: unchanged", planner.ActionSend, obs(invited, 1), inv(invited, 1, t1), notHappened, ""},
		{"accepted in the meantime", planner.ActionSend, obs(invited, 1), inv(accepted, 1, t2), moved, "accepted in the meantime"},
		{"declined in the meantime", planner.ActionSend, obs(invited, 1), inv(declined, 1, t2), undecidable, "no mail was counted"},
		{"touched, no mail counted", planner.ActionSend, obs(invited, 1), inv(invited, 1, t2), undecidable, "no mail was counted"},
		{"fewer mails", planner.ActionSend, obs(invited, 2), inv(invited, 1, t1), undecidable, "no mail was counted"},
		{"same count, other state", planner.ActionSend, obs(nys, 1), inv(invited, 1, t1), undecidable, "no mail was counted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, detail := compare(tt.action, tt.obs, tt.now)
			if v != tt.want || !strings.Contains(detail, tt.detail) {
				t.Errorf("compare = %s, %q; want %s, with %q", v, detail, tt.want, tt.detail)
			}
		})
	}
}

// flaky answers the first mutating call for one address with a 503, after
// doing (or not doing) the call for real and letting others act: what the
// read-back then finds decides the item.
type flaky struct {
	Client
	srv    *emulator.Server
	email  string
	after  bool   // the call is made before the 503
	others string // what another actor does meanwhile (emulator.Act*)

	mu   sync.Mutex
	done bool
}

func (f *flaky) fail(ctx context.Context, email, method string, call func(context.Context, string) (invitations.Result, error)) (invitations.Result, error) {
	f.mu.Lock()
	first := email == f.email && !f.done
	f.done = f.done || first
	f.mu.Unlock()
	if !first {
		return call(ctx, email)
	}
	if f.after {
		if _, err := call(ctx, email); err != nil {
			return invitations.Result{}, err
		}
	}
	if f.others != "" {
		if err := f.srv.Act(email, f.others); err != nil {
			return invitations.Result{}, err
		}
	}
	return invitations.Result{}, &invitations.Error{Kind: invitations.KindAmbiguous, Method: method, Email: email, HTTPCode: 503, Status: "UNAVAILABLE"}
}

func (f *flaky) Send(ctx context.Context, email string) (invitations.Result, error) {
	return f.fail(ctx, email, "send", f.Client.Send)
}

func (f *flaky) Cancel(ctx context.Context, email string) (invitations.Result, error) {
	return f.fail(ctx, email, "cancel", f.Client.Cancel)
}

// A call whose outcome is unknown is read back, and the read-back decides,
// through the real client against the emulator: the cancel half (a cancel
// that did not happen is made again, once; one that happened is not; one
// overtaken by the user or another admin is not recorded as done) and the
// "accepted in the meantime" branch of a resend.
func TestReadBackDecides(t *testing.T) {
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		action   planner.Wanted
		resend   bool
		after    bool
		others   string
		outcome  string
		sends    int
		cancels  int
		state    string
		attempts int
		detail   string
	}{
		{name: "cancel lost before it landed", action: planner.WantCancel, outcome: journal.OutcomeDone, cancels: 1, state: "NOT_YET_SENT", attempts: 2},
		{name: "cancel landed, answer lost", action: planner.WantCancel, after: true, outcome: journal.OutcomeDone, cancels: 1, state: "NOT_YET_SENT", attempts: 1, detail: "reconciled: cancelled"},
		{name: "cancel lost, user accepted", action: planner.WantCancel, others: emulator.ActAccept, outcome: journal.OutcomeRejected, state: "ACCEPTED", attempts: 1, detail: "cannot cancel"},
		{name: "cancel lost, another admin re-sent", action: planner.WantCancel, others: emulator.ActSend, outcome: journal.OutcomeInDoubt, state: "INVITED", attempts: 1, detail: "without being cancelled"},
		{name: "resend lost, user accepted", action: planner.WantInvite, resend: true, others: emulator.ActAccept, outcome: journal.OutcomeRejected, state: "ACCEPTED", attempts: 1, detail: "accepted in the meantime"},
		{name: "resend lost before it landed", action: planner.WantInvite, resend: true, outcome: journal.OutcomeDone, sends: 1, state: "INVITED", attempts: 2},
		{name: "resend landed, answer lost", action: planner.WantInvite, resend: true, after: true, outcome: journal.OutcomeDone, sends: 1, state: "INVITED", attempts: 1, detail: "reconciled: mailsSentCount 1 -> 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const email = "a@example.com"
			w := emulator.World{Customer: customer, Users: []emulator.User{
				{Email: email, State: "INVITED", Mails: 1, UpdateTime: old},
				{Email: "b@example.com", State: "INVITED", Mails: 1, UpdateTime: old},
			}}
			e := newEnv(t, w, emulator.Config{})
			p := planner.Policy{Action: tt.action}
			if tt.resend {
				p.ResendAfter = planner.Duration(time.Hour)
			}
			e.makePlan("email\n"+email+"\nb@example.com\n", p)
			c := &flaky{Client: e.client, srv: e.srv, email: email, after: tt.after, others: tt.others}
			stats, err := e.applyMech(mech{client: c})
			if err != nil {
				t.Fatal(err)
			}
			a, _ := e.srv.State().Account(email)
			o := e.outcomes()[email]
			ownSends := a.Sends // calls through the API: invitectl's
			if o.Outcome != tt.outcome || ownSends != tt.sends || a.Cancels != tt.cancels || a.State != tt.state || o.Attempts != tt.attempts || !strings.Contains(o.Detail, tt.detail) {
				t.Errorf("outcome %s (%d attempts, detail %q), account %s with %d sends and %d cancels by invitectl; want %s (%d attempts, detail %q), %s with %d sends and %d cancels",
					o.Outcome, o.Attempts, o.Detail, a.State, ownSends, a.Cancels, tt.outcome, tt.attempts, tt.detail, tt.state, tt.sends, tt.cancels)
			}
			if stats.Reconciled.Load() != 1 || stats.Parked.Load() != 0 {
				t.Errorf("%d read-backs, %d items still parked; want 1, 0", stats.Reconciled.Load(), stats.Parked.Load())
			}
			if b := e.outcomes()["b@example.com"]; b.Outcome != journal.OutcomeDone {
				t.Errorf("b: %+v", b)
			}
		})
	}
}

// A 429 reaches the write limiter, which learns from it; a connection
// refused before the request left is retried without teaching it anything,
// and the item ends done with one email. Catches: a quota verdict without
// Quota (the pacer never slows down), and a refused connection not retried.
func TestQuotaTeachesTheLimiterAndRefusalsRetry(t *testing.T) {
	t.Run("429", func(t *testing.T) {
		e := budgetEnv(t)
		c := &scripted{Client: e.client, email: "a@example.com", script: repeat("quota", 3)}
		write := pace.NewLimiter(1000)
		stats, err := e.applyMech(mech{client: c, write: write})
		if err != nil {
			t.Fatal(err)
		}
		if got := write.Stats().QuotaEvents; got != 3 {
			t.Errorf("the write limiter saw %d quota errors, want 3", got)
		}
		if stats.QuotaErrors.Load() != 3 {
			t.Errorf("stats count %d quota errors, want 3", stats.QuotaErrors.Load())
		}
		o := e.outcomes()["a@example.com"]
		if a, _ := e.srv.State().Account("a@example.com"); a.Sends != 1 || o.Outcome != journal.OutcomeDone || o.QuotaErrors != 3 || o.Attempts != 4 {
			t.Errorf("account %+v, outcome %+v", a, o)
		}
		if o.Detail != "state INVITED, 1 mail sent" || o.Operation == "" {
			t.Errorf("done without what the operation said: detail %q, operation %q", o.Detail, o.Operation)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		e := budgetEnv(t)
		rt := &refuser{base: invitations.NewTransport(), suffix: "/a@example.com:send", n: 2}
		c, err := invitations.New(context.Background(), invitations.Config{Customer: customer, Endpoint: e.url, Transport: rt, CallTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		write := pace.NewLimiter(1000)
		stats, err := e.applyMech(mech{client: c, write: write})
		if err != nil {
			t.Fatal(err)
		}
		o := e.outcomes()["a@example.com"]
		a, _ := e.srv.State().Account("a@example.com")
		if a.Sends != 1 || a.Mails != 1 || o.Outcome != journal.OutcomeDone || o.Attempts != 3 || rt.refused() != 2 {
			t.Errorf("account %+v, outcome %+v after %d refused connections", a, o, rt.refused())
		}
		if stats.Retries.Load() != 2 || stats.Reconciled.Load() != 0 {
			t.Errorf("%d retries, %d read-backs; want 2 retries, no read-back (nothing left)", stats.Retries.Load(), stats.Reconciled.Load())
		}
		if q := write.Stats().QuotaEvents; q != 0 || stats.QuotaErrors.Load() != 0 {
			t.Errorf("a refused connection counted as %d quota errors (limiter %d)", stats.QuotaErrors.Load(), q)
		}
	})
}

// refuser fails the first n requests whose path ends with suffix as a
// refused TCP connection does: before anything was sent.
type refuser struct {
	base   http.RoundTripper
	suffix string
	n      int

	mu    sync.Mutex
	count int
}

func (r *refuser) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	refuse := strings.HasSuffix(req.URL.Path, r.suffix) && r.count < r.n
	if refuse {
		r.count++
	}
	r.mu.Unlock()
	if refuse {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	return r.base.RoundTrip(req)
}

func (r *refuser) refused() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

// timedClient notes, in the bubble's clock, when each send left and each
// read-back was made, and answers the first send with a 503 that did
// nothing.
type timedClient struct {
	Client
	mu    sync.Mutex
	sends []time.Time
	gets  []time.Time
}

func (c *timedClient) Send(ctx context.Context, email string) (invitations.Result, error) {
	c.mu.Lock()
	c.sends = append(c.sends, time.Now())
	first := len(c.sends) == 1
	c.mu.Unlock()
	if first {
		return invitations.Result{}, &invitations.Error{Kind: invitations.KindAmbiguous, Method: "send", Email: email, HTTPCode: 503, Status: "UNAVAILABLE"}
	}
	return c.Client.Send(ctx, email)
}

func (c *timedClient) Get(ctx context.Context, email string) (invitations.Invitation, error) {
	c.mu.Lock()
	c.gets = append(c.gets, time.Now())
	c.mu.Unlock()
	return c.Client.Get(ctx, email)
}

// oneAccount is an emulator of one unmanaged account, a@example.com, and
// the real client on it, in process (so that it runs inside a synctest
// bubble).
func oneAccount(t *testing.T) (*emulator.Server, *invitations.Adapter) {
	t.Helper()
	srv, err := emulator.New(emulator.World{Customer: customer, Users: []emulator.User{{Email: "a@example.com"}}}, emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ad, err := invitations.New(context.Background(), invitations.Config{Customer: customer, Endpoint: "http://emulator.invalid", Transport: srv.Transport()})
	if err != nil {
		t.Fatal(err)
	}
	return srv, ad
}

// The defaults, with the clock of a synctest bubble: a zero SettleDelay
// waits two minutes after the intent before the read-back that may lead to
// a second call; zero MaxWorkers and Drain still run the plan; no ledger
// is no guard, not a failure.
func TestDefaultsSettleTwoMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, ad := oneAccount(t)
		inv, err := ad.Get(context.Background(), "a@example.com")
		if err != nil {
			t.Fatal(err)
		}
		j, err := journal.Create(filepath.Join(t.TempDir(), "r.jsonl"), journal.Header{Customer: customer})
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		c := &timedClient{Client: ad}
		items := func(fn func(planner.Item) error) error {
			return fn(planner.Item{Row: 2, Email: "a@example.com", Action: planner.ActionSend, Reason: planner.ReasonNotYetSent,
				Observed: &planner.Observed{State: inv.State, MailsSentCount: inv.MailsSentCount, UpdateTime: inv.UpdateTime}})
		}
		stats := new(Stats)
		err = Apply(context.Background(), Config{Client: c, Journal: j, Write: pace.NewLimiter(0), Read: pace.NewLimiter(0),
			Retry: pace.Policy{Base: time.Millisecond, MaxAttempts: 3}}, items, stats)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.sends) != 2 || len(c.gets) != 1 || stats.Done.Load() != 1 {
			t.Fatalf("%d sends, %d read-backs, %d done; want 2, 1, 1", len(c.sends), len(c.gets), stats.Done.Load())
		}
		if wait := c.gets[0].Sub(c.sends[0]); wait < 2*time.Minute || wait > 2*time.Minute+time.Second {
			t.Errorf("read back %v after the unknown outcome, want 2 minutes", wait)
		}
		if a, _ := srv.State().Account("a@example.com"); a.Sends != 1 {
			t.Errorf("%d sends reached the server", a.Sends)
		}
	})
}

// A run killed during a call leaves an intent in the journal and in the
// ledger; the resume that settles it settles the ledger's too, so that no
// later plan or journal sees the call as still in flight.
func TestResumeSettlesTheLedger(t *testing.T) {
	e, run := applyTwo(t)
	for _, email := range []string{"a@example.com", "b@example.com"} {
		if err := run.Ledger.Reserve(context.Background(), ledger.Claim{Source: run.Source, Email: email, Action: ledger.Send}); err != nil {
			t.Fatal(err)
		}
	}
	row := map[string]int{"a@example.com": 2, "b@example.com": 3}
	for email, r := range row {
		if err := run.Journal.Append(journal.Record{Type: journal.TypeIntent, At: time.Now(), Row: r, Email: email, Action: "send", Reason: planner.ReasonNotYetSent, Attempt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.client.Send(context.Background(), "a@example.com"); err != nil { // a's call landed, b's did not
		t.Fatal(err)
	}
	_ = run.Close() // killed

	if _, err := e.apply(applyOpts{}); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(e.state, customer, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, email := range []string{"a@example.com", "b@example.com"} {
		c, ok := l.Latest(email)
		if !ok || c.Effect != ledger.Took {
			t.Errorf("%s in the ledger after the resume: %+v, %v; want took effect", email, c, ok)
		}
		if a, _ := e.srv.State().Account(email); a.Sends != 1 || e.outcomes()[email].Outcome != journal.OutcomeDone {
			t.Errorf("%s: %d sends, outcome %+v", email, a.Sends, e.outcomes()[email])
		}
	}
}

// An interrupt while items wait for the pacer, every item handed out to a
// worker: the run reports ErrInterrupted (so the command says to resume),
// the calls that left are settled in the ledger, and a resume finishes the
// rest, each address emailed once and settled.
func TestInterruptThenResumeSettlesTheLedger(t *testing.T) {
	const n = 8
	w := nysWorld(n)
	e := newEnv(t, w, emulator.Config{})
	e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(300*time.Millisecond, cancel)
	stats, err := e.applyMech(mech{ctx: ctx, write: pace.NewLimiter(4), workers: 2 * n})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Apply = %v, want ErrInterrupted", err)
	}
	if done := stats.Done.Load(); done == 0 || done == n || int(done) != e.srv.State().Calls["send"] {
		t.Fatalf("%d done of %d before the interrupt, %d sends; want some, not all", done, n, e.srv.State().Calls["send"])
	}
	check := func(when string, all bool) {
		t.Helper()
		l, err := ledger.Open(e.state, customer, ledger.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for _, u := range w.Users {
			a, _ := e.srv.State().Account(u.Email)
			c, held := l.Latest(u.Email)
			// An address no call reached holds no reservation either: it
			// would stop every other run as in_flight.
			leaked := a.Sends == 0 && held && c.Effect == ledger.Pending
			if a.Sends > 1 || (all && a.Sends != 1) || (a.Sends == 1 && (!held || c.Effect != ledger.Took)) || leaked {
				t.Errorf("%s: %s: %d sends, ledger %+v, %v", when, u.Email, a.Sends, c, held)
			}
		}
	}
	check("interrupted", false)
	if _, err := e.applyMech(mech{}); err != nil {
		t.Fatal(err)
	}
	check("resumed", true)
}

// An error reading the plan ends the run with that error.
func TestItemsErrorEndsTheRun(t *testing.T) {
	e := budgetEnv(t)
	bad := errors.New("plan line 3: corrupt item")
	_, err := e.applyMech(mech{items: func(all Items) Items {
		return func(fn func(planner.Item) error) error {
			if err := all(fn); err != nil {
				return err
			}
			return bad
		}
	}})
	if !errors.Is(err, bad) {
		t.Fatalf("Apply = %v, want the plan's error", err)
	}
}

// A second journal of the plan finds every address taken by the first: it
// skips them all (already_sent) and writes nothing in the ledger, whose
// record of the first journal's calls stays as it was.
func TestConflictsWriteNothing(t *testing.T) {
	const n = 5
	w := nysWorld(n)
	e := newEnv(t, w, emulator.Config{})
	e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})
	if _, err := e.applyMech(mech{}); err != nil {
		t.Fatal(err)
	}
	led, err := ledger.Open(e.state, customer, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	stats, err := e.applyMech(mech{ledger: led, results: filepath.Join(e.dir, "second.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Conflicts.Load() != n || stats.Calls.Load() != 0 || e.srv.State().Calls["send"] != n {
		t.Errorf("second journal: %d conflicts, %d calls, %d sends in all", stats.Conflicts.Load(), stats.Calls.Load(), e.srv.State().Calls["send"])
	}
	if records, _ := led.Stats(); records != 0 {
		t.Errorf("the second journal wrote %d ledger records for calls it never made", records)
	}
}

// A call another journal left without an outcome skips the item as
// in_flight and names the journal whose resume settles it; a single
// command's is named without a journal to resume.
func TestInFlightNamesTheJournal(t *testing.T) {
	w := nysWorld(2)
	e := newEnv(t, w, emulator.Config{})
	e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})
	l, err := ledger.Open(e.state, customer, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	other := ledger.NewSource()
	other.Command, other.Plan, other.Journal = "apply", "/plans/other.jsonl", "/plans/other.results.jsonl"
	single := ledger.NewSource()
	single.Command = "send"
	for email, src := range map[string]*ledger.Source{"p000@example.com": other, "p001@example.com": single} {
		if err := l.Reserve(context.Background(), ledger.Claim{Source: src, Email: email, Action: ledger.Send}); err != nil {
			t.Fatal(err)
		}
	}
	_ = l.Close()
	stats, err := e.applyMech(mech{})
	if err != nil {
		t.Fatal(err)
	}
	outs := e.outcomes()
	if o := outs["p000@example.com"]; o.Reason != planner.ReasonInFlight || !strings.Contains(o.Message, "'invitectl resume /plans/other.results.jsonl' settles it") {
		t.Errorf("p000: %+v", o)
	}
	if o := outs["p001@example.com"]; o.Reason != planner.ReasonInFlight || strings.Contains(o.Message, "resume") || !strings.Contains(o.Message, "'invitectl send'") {
		t.Errorf("p001: %+v", o)
	}
	if stats.Conflicts.Load() != 2 || e.srv.State().Calls["send"] != 0 {
		t.Errorf("%d conflicts, %d sends", stats.Conflicts.Load(), e.srv.State().Calls["send"])
	}
}

// slowSend holds every send for hold before it answers, unless its context
// ends first.
type slowSend struct {
	Client
	hold    time.Duration
	started chan struct{}
}

func (c *slowSend) Send(ctx context.Context, email string) (invitations.Result, error) {
	close(c.started)
	select {
	case <-time.After(c.hold):
		return c.Client.Send(ctx, email)
	case <-ctx.Done():
		return invitations.Result{}, ctx.Err()
	}
}

// An interrupt lets the call in flight finish for Drain, 30 s when it is
// zero: a 20 s send lands and is recorded done under the default, and is cut
// (and never reaches the server) under a 10 s Drain.
func TestInterruptDrainsForThirtySecondsByDefault(t *testing.T) {
	for _, tt := range []struct {
		drain   time.Duration
		outcome string
	}{{0, journal.OutcomeDone}, {10 * time.Second, journal.OutcomeFailed}} {
		t.Run(tt.drain.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, ad := oneAccount(t)
				path := filepath.Join(t.TempDir(), "r.jsonl")
				j, err := journal.Create(path, journal.Header{Customer: customer})
				if err != nil {
					t.Fatal(err)
				}
				c := &slowSend{Client: ad, hold: 20 * time.Second, started: make(chan struct{})}
				items := func(fn func(planner.Item) error) error {
					return fn(planner.Item{Row: 2, Email: "a@example.com", Action: planner.ActionSend, Reason: planner.ReasonNotYetSent})
				}
				ctx, cancel := context.WithCancel(context.Background())
				go func() { <-c.started; time.Sleep(time.Second); cancel() }()
				_ = Apply(ctx, Config{Client: c, Journal: j, Write: pace.NewLimiter(0), Read: pace.NewLimiter(0), Drain: tt.drain,
					SettleDelay: time.Hour, Retry: pace.Policy{Base: time.Millisecond, MaxAttempts: 1}}, items, new(Stats))
				if err := j.Close(); err != nil {
					t.Fatal(err)
				}
				st, err := journal.Read(path)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := st.Final("a@example.com")
				a, _ := srv.State().Account("a@example.com")
				if tt.outcome == journal.OutcomeDone && (got.Outcome != journal.OutcomeDone || a.Sends != 1) {
					t.Errorf("default drain: outcome %q, %d sends; want the call finished and done", got.Outcome, a.Sends)
				}
				if tt.outcome != journal.OutcomeDone && (got.Outcome == journal.OutcomeDone || a.Sends != 0) {
					t.Errorf("10 s drain: outcome %q, %d sends; want the call cut", got.Outcome, a.Sends)
				}
			})
		})
	}
}

// A resume reads the ledger without its journal's own calls, which the
// journal settles; another source's calls are kept, and stop its sends.
func TestResumeLedgerSkipsOwnCalls(t *testing.T) {
	e, run := applyTwo(t)
	ctx := context.Background()
	other := ledger.NewSource()
	for _, c := range []ledger.Claim{{Source: run.Source, Email: "a@example.com", Action: ledger.Send}, {Source: other, Email: "b@example.com", Action: ledger.Send}} {
		if err := run.Ledger.Reserve(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := run.Ledger.Record(ctx, run.Source, "a@example.com", ledger.Send, ledger.Took); err != nil {
		t.Fatal(err)
	}
	_ = run.Close()

	again := e.open("resume")
	if again.Source.ID != run.Source.ID {
		t.Fatalf("the resume's source is %s, the journal's %s", again.Source.ID, run.Source.ID)
	}
	if c, ok := again.Ledger.Latest("a@example.com"); ok {
		t.Errorf("the journal's own call is kept: %+v", c)
	}
	if c, ok := again.Ledger.Latest("b@example.com"); !ok || c.Source.ID != other.ID || c.Effect != ledger.Pending {
		t.Errorf("another source's call: %+v, %v", c, ok)
	}
}

// applyTwo opens the apply of a plan inviting a@ and b@example.com.
func applyTwo(t *testing.T) (*env, *Run) {
	t.Helper()
	w := emulator.World{Customer: customer, Users: []emulator.User{{Email: "a@example.com"}, {Email: "b@example.com"}}}
	e := newEnv(t, w, emulator.Config{})
	e.makePlan("email\na@example.com\nb@example.com\n", planner.Policy{Action: planner.WantInvite})
	return e, e.open("apply")
}

// open opens e's plan for command with the default journal; the test's
// end closes it.
func (e *env) open(command string) *Run {
	e.t.Helper()
	run, err := Open(OpenConfig{Plan: e.plan, StateDir: e.state, Command: command})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = run.Close() })
	return run
}

// A journal from before the ledger names no ledger source: its resume gets
// a new one, and the ledger keeps every call, so none is left out for it.
func TestResumeOfAJournalWithoutLedgerSource(t *testing.T) {
	e, run := applyTwo(t)
	p := run.Plan
	abs, err := filepath.Abs(e.plan)
	if err != nil {
		t.Fatal(err)
	}
	_ = run.Close()
	if err := os.Remove(run.Results); err != nil {
		t.Fatal(err)
	}
	j, err := journal.Create(run.Results, journal.Header{Customer: customer, APIVersion: "v1",
		Plan: journal.PlanRef{Path: abs, SHA256: p.SHA256, Items: p.Len()}})
	if err != nil {
		t.Fatal(err)
	}
	_ = j.Close()
	l, err := ledger.Open(e.state, customer, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	earlier := ledger.NewSource()
	if err := l.Reserve(context.Background(), ledger.Claim{Source: earlier, Email: "a@example.com", Action: ledger.Send}); err != nil {
		t.Fatal(err)
	}
	_ = l.Close()

	again := e.open("resume")
	if again.Resume == nil || again.Source.ID == "" || again.Source.ID == earlier.ID {
		t.Fatalf("resume: journal state %v, source %q", again.Resume != nil, again.Source.ID)
	}
	if c, ok := again.Ledger.Latest("a@example.com"); !ok || c.Source.ID != earlier.ID {
		t.Fatalf("the earlier call: %+v, %v; want it kept", c, ok)
	}
}

// Items waiting for the pacer hold no reservation: a run killed now would
// leave the ledger holding only the calls that left, not every item its
// workers had taken, and other runs would not wait on the rest.
func TestReservationsOnlyForCallsThatLeave(t *testing.T) {
	const n = 16
	w := nysWorld(n)
	e := newEnv(t, w, emulator.Config{})
	e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func() (pending, sent int) {
		l, err := ledger.Open(e.state, customer, ledger.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for _, u := range w.Users {
			if c, ok := l.Latest(u.Email); ok && c.Effect == ledger.Pending {
				pending++
			}
		}
		return pending, e.srv.State().Calls["send"]
	}
	var pending, sent int
	time.AfterFunc(400*time.Millisecond, func() { pending, sent = open(); cancel() })
	// Two sends a second, one at a time, while 16 workers wait with an item each.
	if _, err := e.applyMech(mech{ctx: ctx, write: pace.NewLimiter(2), workers: n}); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Apply = %v, want ErrInterrupted", err)
	}
	if sent == 0 || sent == n || pending > 1 {
		t.Fatalf("400 ms in: %d sends, %d reservations pending; want some sends and at most the one call in flight reserved", sent, pending)
	}
}

// A resume starts from, and estimates with, what its journal's last run
// learned of the quota, not what the plan did.
func TestResumeLearnedIsTheJournals(t *testing.T) {
	e, run := applyTwo(t)
	if run.Learned() != run.Plan.Header.Pace {
		t.Fatalf("a new journal: Learned = %+v, want the plan's", run.Learned())
	}
	learned := &pace.State{Quotas: []pace.Learned{{Classes: []pace.Class{pace.Write}, WindowSeconds: 60, Estimate: 148, Pace: 143}}}
	if err := run.Journal.Append(journal.Record{Type: journal.TypeRun, At: time.Now(), Event: journal.EventInterrupted, PID: 1, Pace: learned}); err != nil {
		t.Fatal(err)
	}
	_ = run.Close()
	got := e.open("resume").Learned()
	if got == nil || len(got.Quotas) != 1 || got.Quotas[0].Estimate != 148 || got.Quotas[0].Pace != 143 {
		t.Fatalf("resume: Learned = %+v, want the journal's", got)
	}
}
