package planner

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/source"
)

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func testWorld() emulator.World {
	return emulator.World{Customer: "C0plan1", Users: []emulator.User{
		{Email: "nys@example.com"},
		{Email: "recent@example.com", Recent: true},
		{Email: "managed@example.com", Kind: "managed"},
		{Email: "invited-old@example.com", State: "INVITED", Mails: 1, UpdateTime: now.Add(-30 * 24 * time.Hour)},
		{Email: "invited-new@example.com", State: "INVITED", Mails: 1, UpdateTime: now.Add(-time.Hour)},
		{Email: "accepted@example.com", State: "ACCEPTED", Mails: 1},
		{Email: "declined@example.com", State: "DECLINED", Mails: 2},
		{Email: "stray@example.com", State: "INVITED", Mails: 1},
		{Email: "stray-nys@example.com"},
	}}
}

const campaign = `email,action
nys@example.com,
recent@example.com,
nobody@example.com,
managed@example.com,
invited-old@example.com,
invited-new@example.com,
accepted@example.com,
declined@example.com,
NYS@example.com,
not an address,
invited-new@example.com,cancel
`

// plan runs Build against an emulator through the real client and returns
// the items, the header and the emulator.
func plan(t *testing.T, p Policy, input string, wrap func(Reader) Reader) ([]Item, Header, *emulator.Server, error) {
	items, hdr, srv, _, err := planStats(t, p, input, wrap)
	return items, hdr, srv, err
}

// planStats is plan that also returns the run's counters.
func planStats(t *testing.T, p Policy, input string, wrap func(Reader) Reader) ([]Item, Header, *emulator.Server, *Stats, error) {
	t.Helper()
	return planWorld(t, testWorld(), p, input, func(cfg *Config) {
		if wrap != nil {
			cfg.Client = wrap(cfg.Client)
		}
	})
}

// planWorld runs Build against an emulator of w through the real client;
// configure, when set, changes the Config first.
func planWorld(t *testing.T, w emulator.World, p Policy, input string, configure func(*Config)) ([]Item, Header, *emulator.Server, *Stats, error) {
	t.Helper()
	srv, err := emulator.New(w, emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := invitations.New(context.Background(), invitations.Config{Customer: w.Customer, Endpoint: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Client: c, Customer: w.Customer, APIVersion: "v1", Policy: p, MaxInFlight: 4,
		Retry: pace.Policy{Base: time.Millisecond, Max: 2 * time.Millisecond, MaxAttempts: 3}, Now: func() time.Time { return now }}
	if configure != nil {
		configure(&cfg)
	}
	targets := func(fn func(source.Target) error) (source.Info, error) {
		return source.Read(strings.NewReader(input), "campaign.csv", source.Options{}, fn)
	}
	var items []Item
	stats := new(Stats)
	hdr, err := Build(context.Background(), cfg, targets, stats, func(it Item) error {
		items = append(items, it)
		return nil
	})
	return items, hdr, srv, stats, err
}

func decisions(items []Item) string {
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "%d %s %s/%s\n", it.Row, it.Email, it.Action, it.Reason)
	}
	return b.String()
}

func TestBuildAgainstEmulator(t *testing.T) {
	cases := []struct {
		name   string
		policy Policy
		want   string
		checks int
	}{
		{"defaults", Policy{}, `2 nys@example.com send/not_yet_sent
3 recent@example.com send/unlisted_invitable
4 nobody@example.com none/not_invitable
5 managed@example.com none/not_invitable
6 invited-old@example.com none/already_invited
7 invited-new@example.com none/already_invited
8 accepted@example.com none/accepted
9 declined@example.com none/declined
10 nys@example.com none/duplicate
11 not an address none/invalid_email
12 invited-new@example.com none/duplicate
`, 4},
		{"every policy", Policy{ResendAfter: Duration(168 * time.Hour), ReinviteDeclined: true, Prune: true, TrustList: true}, `2 nys@example.com send/not_yet_sent
3 recent@example.com send/unlisted_invitable
4 nobody@example.com none/not_invitable
5 managed@example.com none/not_invitable
6 invited-old@example.com send/resend
7 invited-new@example.com none/already_invited
8 accepted@example.com none/accepted
9 declined@example.com send/reinvite
10 nys@example.com none/duplicate
11 not an address none/invalid_email
12 invited-new@example.com none/duplicate
0 stray@example.com cancel/not_in_input
`, 3},
		{"cancel", Policy{Action: WantCancel}, `2 nys@example.com none/not_yet_sent
3 recent@example.com none/not_listed
4 nobody@example.com none/not_listed
5 managed@example.com none/not_listed
6 invited-old@example.com cancel/invited
7 invited-new@example.com cancel/invited
8 accepted@example.com none/accepted
9 declined@example.com none/declined
10 nys@example.com none/duplicate
11 not an address none/invalid_email
12 invited-new@example.com none/duplicate
`, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			items, hdr, srv, err := plan(t, tc.policy, campaign, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := decisions(items); got != tc.want {
				t.Fatalf("decisions:\n%s\nwant:\n%s", got, tc.want)
			}
			st := srv.State()
			if st.Calls["send"]+st.Calls["cancel"] != 0 {
				t.Fatalf("planning made mutating calls: %v", st.Calls)
			}
			if st.Calls["isInvitableUser"] != tc.checks || st.Calls["list"] != 1 {
				t.Fatalf("calls %v, want %d isInvitableUser and one list page", st.Calls, tc.checks)
			}
			if hdr.Source.Rows != 11 || hdr.Source.SHA256 == "" || hdr.Customer != "C0plan1" || hdr.Kind != Kind {
				t.Fatalf("header %+v", hdr)
			}
			var sum Summary
			for _, it := range items {
				sum.Add(it)
			}
			if fmt.Sprint(sum) != fmt.Sprint(hdr.Summary) || hdr.Summary.Invalid != 1 {
				t.Fatalf("summary %+v, recount %+v", hdr.Summary, sum)
			}
		})
	}
}

func TestBuildRecordsObservations(t *testing.T) {
	items, _, _, err := plan(t, Policy{}, campaign, nil)
	if err != nil {
		t.Fatal(err)
	}
	byEmail := map[string]Item{}
	for _, it := range items {
		if _, seen := byEmail[it.Email]; !seen {
			byEmail[it.Email] = it
		}
	}
	if o := byEmail["declined@example.com"].Observed; o == nil || o.State != invitations.StateDeclined || o.MailsSentCount != 2 {
		t.Errorf("declined observed %+v", o)
	}
	if it := byEmail["recent@example.com"]; it.Observed != nil || it.Invitable == nil || !*it.Invitable {
		t.Errorf("recent item %+v", it)
	}
	if it := byEmail["accepted@example.com"]; it.Invitable != nil {
		t.Errorf("accepted was checked: %+v", it)
	}
}

// failing makes isInvitableUser fail for one address, as a persistent 503
// would, and for another with an authentication error.
type failing struct {
	Reader
	unavailable, unauthorized string
	calls                     int
}

func (f *failing) IsInvitable(ctx context.Context, email string) (bool, error) {
	switch email {
	case f.unavailable:
		f.calls++
		return false, &invitations.Error{Kind: invitations.KindAmbiguous, Method: "isInvitableUser", Email: email, HTTPCode: 503, Message: "unavailable"}
	case f.unauthorized:
		return false, &invitations.Error{Kind: invitations.KindAuth, Method: "isInvitableUser", Email: email, HTTPCode: 401, Message: "expired"}
	}
	return f.Reader.IsInvitable(ctx, email)
}

func TestBuildCheckFailed(t *testing.T) {
	f := &failing{unavailable: "recent@example.com"}
	items, hdr, _, stats, err := planStats(t, Policy{}, campaign, func(r Reader) Reader { f.Reader = r; return f })
	if err != nil {
		t.Fatal(err)
	}
	if f.calls != 3 {
		t.Errorf("the failing check was tried %d times, want 3 (MaxAttempts)", f.calls)
	}
	it := items[1]
	if it.Email != "recent@example.com" || it.Action != ActionNone || it.Reason != ReasonCheckFailed || !strings.Contains(it.Error, "503") {
		t.Fatalf("item %+v", it)
	}
	if hdr.Summary.CheckFailed != 1 || len(items) != 11 || stats.Failed.Load() != 1 {
		t.Fatalf("summary %+v, %d items", hdr.Summary, len(items))
	}
}

func TestBuildAbortsOnAuth(t *testing.T) {
	f := &failing{unauthorized: "nobody@example.com"}
	_, _, _, err := plan(t, Policy{}, campaign, func(r Reader) Reader { f.Reader = r; return f })
	if !invitations.IsAuth(err) {
		t.Fatalf("err = %v, want an auth error", err)
	}
}

func TestBuildListAuthFailure(t *testing.T) {
	_, _, _, err := plan(t, Policy{}, campaign, func(r Reader) Reader {
		return listDenied{r}
	})
	if !invitations.IsAuth(err) {
		t.Fatalf("err = %v, want an auth error", err)
	}
}

type listDenied struct{ Reader }

func (listDenied) List(context.Context, invitations.ListOptions, func([]invitations.Invitation) error) error {
	return &invitations.Error{Kind: invitations.KindAuth, Method: "list", HTTPCode: 403, Status: "PERMISSION_DENIED"}
}

func TestBuildInputError(t *testing.T) {
	_, _, srv, err := plan(t, Policy{}, "name,team\nx,y\n", nil)
	var ie *source.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an input error", err)
	}
	if srv.State().Calls["isInvitableUser"] != 0 {
		t.Fatal("checks ran for an unreadable input")
	}
}

func TestBuildEmitErrorStops(t *testing.T) {
	srv, _ := emulator.New(testWorld(), emulator.Config{})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c, _ := invitations.New(context.Background(), invitations.Config{Customer: "C0plan1", Endpoint: hs.URL})
	boom := errors.New("disk full")
	targets := func(fn func(source.Target) error) (source.Info, error) {
		return source.Read(strings.NewReader(campaign), "campaign.csv", source.Options{}, fn)
	}
	_, err := Build(context.Background(), Config{Client: c, Customer: "C0plan1"}, targets, nil, func(Item) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the emit error", err)
	}
}
