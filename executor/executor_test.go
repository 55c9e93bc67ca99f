package executor

import (
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/source"
	"github.com/invitectl/invitectl/planner"
)

const customer = "C0exec1"

// world has n accounts: mostly NOT_YET_SENT, some INVITED, ACCEPTED,
// DECLINED, recent (unlisted) and managed.
func world(n int) emulator.World {
	w := emulator.World{Customer: customer}
	for i := range n {
		u := emulator.User{Email: fmt.Sprintf("user%04d@example.com", i)}
		switch i % 10 {
		case 1:
			u.State, u.Mails = "INVITED", 1
		case 2:
			u.State, u.Mails = "ACCEPTED", 1
		case 3:
			u.State, u.Mails = "DECLINED", 1
		case 4:
			u.Recent = true
		case 5:
			u.Kind = "managed"
		}
		w.Users = append(w.Users, u)
	}
	return w
}

// campaign names every account of the world plus a few unknown addresses.
func campaign(w emulator.World) string {
	var b strings.Builder
	b.WriteString("email\n")
	for _, u := range w.Users {
		b.WriteString(u.Email + "\n")
	}
	b.WriteString("nobody1@example.com\nnobody2@example.com\n")
	return b.String()
}

type env struct {
	t      *testing.T
	srv    *emulator.Server
	client *invitations.Adapter
	// planClient reads a fault-free twin of the world.
	planClient *invitations.Adapter
	plan       string
	dir        string
	state      string // the ledger's folder
	url        string
}

// newEnv serves w twice: planning reads a perfect emulator, apply acts on
// one configured by cfg, both starting from the same state.
func newEnv(t *testing.T, w emulator.World, cfg emulator.Config) *env {
	return newEnvWorlds(t, w, w, cfg)
}

// newEnvWorlds plans against planWorld and applies against applyWorld, as
// when the tenant changes between plan and apply.
func newEnvWorlds(t *testing.T, planWorld, applyWorld emulator.World, cfg emulator.Config) *env {
	t.Helper()
	serve := func(w emulator.World, cfg emulator.Config) (*emulator.Server, string, *invitations.Adapter) {
		srv, err := emulator.New(w, cfg)
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv)
		t.Cleanup(hs.Close)
		c, err := invitations.New(context.Background(), invitations.Config{Customer: customer, Endpoint: hs.URL, CallTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return srv, hs.URL, c
	}
	_, _, planClient := serve(planWorld, emulator.Config{})
	srv, url, c := serve(applyWorld, cfg)
	e := &env{t: t, srv: srv, client: c, planClient: planClient, dir: t.TempDir(), state: t.TempDir(), url: url}
	e.plan = filepath.Join(e.dir, "plan.jsonl")
	return e
}

// makePlan plans against the fault-free twin.
func (e *env) makePlan(input string, p planner.Policy) {
	e.t.Helper()
	fw, err := planner.CreateFile(e.plan)
	if err != nil {
		e.t.Fatal(err)
	}
	defer fw.Close()
	targets := func(fn func(source.Target) error) (source.Info, error) {
		return source.Read(strings.NewReader(input), "campaign.csv", source.Options{}, fn)
	}
	cfg := planner.Config{Client: e.planClient, Customer: customer, APIVersion: "v1", Policy: p,
		Retry: pace.Policy{Base: time.Millisecond, Max: 5 * time.Millisecond, MaxAttempts: 20}}
	hdr, err := planner.Build(context.Background(), cfg, targets, nil, fw.Emit)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := fw.Commit(hdr); err != nil {
		e.t.Fatal(err)
	}
}

type applyOpts struct {
	retryInDoubt  bool
	retryRejected bool
	noRefresh     bool
	ctx           context.Context
	client        Client
	judge         bool          // tell refusals from credential failures with a probe
	results       string        // journal path; default plan.results.jsonl
	settle        time.Duration // default 20 ms
	stats         *Stats
	refreshed     *Refreshed
	limit         int // Config.Limit
}

// apply opens the plan as the apply command does (journal, ledger, run
// lock), refreshes, and applies, and returns the stats.
func (e *env) apply(o applyOpts) (*Stats, error) {
	e.t.Helper()
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	results := o.results
	if results == "" {
		results = filepath.Join(e.dir, "plan.results.jsonl")
	}
	run, err := Open(OpenConfig{Plan: e.plan, Results: results, StateDir: e.state, Command: "apply"})
	if err != nil {
		return nil, err
	}
	defer run.Close()
	client := o.client
	if client == nil {
		client = e.client
	}
	retry := pace.Policy{Base: time.Millisecond, Max: 10 * time.Millisecond, MaxAttempts: 30}
	reader, ok := client.(Reader)
	if !ok {
		reader = e.client // a wrapper of the sends: reads go straight to the server
	}
	var moved map[string]string
	if !o.noRefresh {
		ref, err := RefreshUpTo(ctx, RefreshConfig{Client: reader, Retry: retry, Listed: run.Plan.Header.Listed}, run.ToRefresh(o.retryRejected), o.limit)
		if err != nil {
			return new(Stats), err
		}
		if o.refreshed != nil {
			*o.refreshed = ref
		}
		moved = ref.Moved
	}
	settle := o.settle
	if settle == 0 {
		settle = 20 * time.Millisecond
	}
	var judge *invitations.Judge
	if o.judge {
		judge = invitations.NewJudge(invitations.Probe(reader, nil))
	}
	stats := o.stats
	if stats == nil {
		stats = new(Stats)
	}
	err = Apply(ctx, Config{
		Client: client, Journal: run.Journal, Resume: run.Resume, Write: pace.NewLimiter(0), Read: pace.NewLimiter(0),
		MaxWorkers: 16, RetryInDoubt: o.retryInDoubt, RetryRejected: o.retryRejected, Drain: 5 * time.Second,
		Retry:  retry,
		Ledger: run.Ledger, Source: run.Source, PlanCreated: run.Plan.Header.CreatedAt, Moved: moved,
		SettleDelay: settle, Judge: judge, Limit: o.limit,
	}, run.Items(), stats)
	return stats, err
}

// planned returns the plan's items by action.
func (e *env) planned() map[planner.Action][]planner.Item {
	e.t.Helper()
	p, err := planner.Load(e.plan)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[planner.Action][]planner.Item{}
	for i := range p.Len() {
		it := p.Item(i)
		out[it.Action] = append(out[it.Action], it)
	}
	return out
}

// outcomes reads the journal's last outcome per item.
func (e *env) outcomes() map[string]journal.Record {
	e.t.Helper()
	st, err := journal.Read(filepath.Join(e.dir, "plan.results.jsonl"))
	if err != nil {
		e.t.Fatal(err)
	}
	return maps.Collect(st.Finals())
}

func TestCampaignSendsExactlyOnce(t *testing.T) {
	w := world(400)
	e := newEnv(t, w, emulator.Config{})
	e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})
	before := e.srv.State()
	stats, err := e.apply(applyOpts{})
	if err != nil {
		t.Fatal(err)
	}
	sends := map[string]bool{}
	for _, it := range e.planned()[planner.ActionSend] {
		sends[it.Email] = true
	}
	if len(sends) != 240 { // NOT_YET_SENT (6 in 10) and recent (1 in 10)
		t.Fatalf("%d sends planned", len(sends))
	}
	after := e.srv.State()
	for i, a := range after.Accounts {
		b := before.Accounts[i]
		wantMails := b.Mails
		if sends[a.Email] {
			wantMails++
		}
		if a.Mails != wantMails || a.Sends != boolInt(sends[a.Email]) || a.Cancels != 0 {
			t.Errorf("%s: mails %d sends %d, want mails %d (planned send: %v)", a.Email, a.Mails, a.Sends, wantMails, sends[a.Email])
		}
	}
	if stats.Done.Load() != 240 || stats.Problems() != 0 || stats.Finished() != stats.Total.Load() {
		t.Fatalf("stats: done %d problems %d finished %d of %d", stats.Done.Load(), stats.Problems(), stats.Finished(), stats.Total.Load())
	}
	outs := e.outcomes()
	if len(outs) != int(stats.Total.Load()) {
		t.Fatalf("%d outcomes recorded for %d items", len(outs), stats.Total.Load())
	}
	for email := range sends {
		if o := outs[email]; o.Outcome != journal.OutcomeDone || o.Attempts != 1 || o.Operation == "" {
			t.Errorf("%s: %+v", email, o)
		}
	}
	// A second apply on the same journal does nothing more.
	stats, err = e.apply(applyOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.srv.State().Calls["send"]; got != 240 || stats.Calls.Load() != 0 {
		t.Fatalf("after a second apply: %d sends in all, %d calls this run", got, stats.Calls.Load())
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestCancelCampaign(t *testing.T) {
	w := world(100)
	e := newEnv(t, w, emulator.Config{})
	e.makePlan(campaign(w), planner.Policy{Action: planner.WantCancel})
	if _, err := e.apply(applyOpts{}); err != nil {
		t.Fatal(err)
	}
	st := e.srv.State()
	for _, a := range st.Accounts {
		invited := strings.HasSuffix(strings.TrimSuffix(a.Email, "@example.com"), "1") // i%10 == 1
		if invited != (a.Cancels == 1) || (invited && a.State != "NOT_YET_SENT") || a.Sends != 0 {
			t.Errorf("%s: %+v", a.Email, a)
		}
	}
	if st.Calls["send"] != 0 || st.Calls["cancel"] != 10 {
		t.Fatalf("calls %v", st.Calls)
	}
}

// An invitation accepted between plan and apply: the refresh before the
// first call skips it (changed_since_plan); without the refresh, the send is
// refused by the API and the item is rejected. Nobody is emailed either way.
func TestStateChangedSincePlan(t *testing.T) {
	w := emulator.World{Customer: customer, Users: []emulator.User{{Email: "a@example.com"}, {Email: "b@example.com"}}}
	changed := emulator.World{Customer: customer, Users: []emulator.User{{Email: "a@example.com", State: "ACCEPTED"}, {Email: "b@example.com"}}}
	for _, noRefresh := range []bool{false, true} {
		t.Run(fmt.Sprintf("noRefresh=%v", noRefresh), func(t *testing.T) {
			e := newEnvWorlds(t, w, changed, emulator.Config{})
			e.makePlan("email\na@example.com\nb@example.com\n", planner.Policy{Action: planner.WantInvite})
			var ref Refreshed
			stats, err := e.apply(applyOpts{noRefresh: noRefresh, refreshed: &ref})
			if err != nil {
				t.Fatal(err)
			}
			o := e.outcomes()["a@example.com"]
			if noRefresh {
				if o.Outcome != journal.OutcomeRejected || o.HTTPCode != 400 || !strings.Contains(o.Message, "FAILED_PRECONDITION") || stats.Rejected.Load() != 1 {
					t.Fatalf("a: %+v", o)
				}
			} else {
				if o.Outcome != journal.OutcomeSkipped || o.Reason != planner.ReasonChangedSincePlan || !strings.Contains(o.Message, "now ACCEPTED") || stats.Moved.Load() != 1 {
					t.Fatalf("a: %+v", o)
				}
				if ref.How != "list" || ref.Calls != 1 || ref.Checked != 2 {
					t.Fatalf("refresh %+v, want one page of the listing for 2 items", ref)
				}
			}
			if stats.Done.Load() != 1 || e.srv.State().Calls["send"] != 2-btoi(!noRefresh) {
				t.Fatalf("done %d, sends %d", stats.Done.Load(), e.srv.State().Calls["send"])
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestAuthFailureStopsTheRun(t *testing.T) {
	w := world(50)
	e := newEnv(t, w, emulator.Config{})
	e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})
	other, err := invitations.New(context.Background(), invitations.Config{Customer: "C0other", Endpoint: e.url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.apply(applyOpts{client: other})
	if !invitations.IsAuth(err) && !invitations.IsDenied(err) {
		t.Fatalf("err = %v, want the auth failure", err)
	}
	if n := e.srv.State().Calls["send"]; n > 16 {
		t.Fatalf("%d sends attempted after the first auth failure (16 workers)", n)
	}
	// Nothing happened; a resume with the right customer finishes the job.
	if _, err := e.apply(applyOpts{}); err != nil {
		t.Fatal(err)
	}
	for _, a := range e.srv.State().Accounts {
		if a.Sends > 1 {
			t.Fatalf("%s sent %d times", a.Email, a.Sends)
		}
	}
}
