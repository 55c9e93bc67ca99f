package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
)

// clock is a settable clock for Config.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{time.Date(2026, 5, 1, 12, 0, 30, 0, time.UTC)} }

// TestSendVisibilityLag: a send to a recent account leaves its invitation
// invisible to get and list for the lag, then shows it (issue 8 item 8).
func TestSendVisibilityLag(t *testing.T) {
	for _, lag := range []time.Duration{0, 90 * time.Second} {
		t.Run(lag.String(), func(t *testing.T) {
			clk := newClock()
			srv, _, c := start(t, smallWorld(), emulator.Config{Now: clk.now, SendVisibilityLag: lag}, invitations.V1)
			ctx := context.Background()
			res, err := c.Send(ctx, "recent@example.com")
			if err != nil || res.Invitation == nil || res.Invitation.MailsSentCount != 1 {
				t.Fatalf("send = %+v, %v", res, err)
			}
			visible := func() bool {
				_, err := c.Get(ctx, "recent@example.com")
				if err != nil && !invitations.IsNotFound(err) {
					t.Fatal(err)
				}
				listed := slices.Contains(listAll(t, c), "recent@example.com")
				if listed != (err == nil) {
					t.Fatalf("get found=%v but list shows=%v", err == nil, listed)
				}
				if a, _ := srv.State().Account("recent@example.com"); a.Visible != listed {
					t.Fatalf("state says visible=%v, list %v", a.Visible, listed)
				}
				return listed
			}
			if got := visible(); got != (lag == 0) {
				t.Fatalf("right after the send: visible=%v", got)
			}
			// A cancel cannot find what get cannot see; a second send
			// does not push the lag back.
			if lag > 0 {
				if _, err := c.Cancel(ctx, "recent@example.com"); !invitations.IsPrecondition(err) {
					t.Fatalf("cancel during the lag: %v", err)
				}
				clk.add(lag / 2)
				if _, err := c.Send(ctx, "recent@example.com"); err != nil {
					t.Fatal(err)
				}
				clk.add(lag/2 - time.Millisecond)
				if visible() {
					t.Fatal("visible before the lag ran out")
				}
				clk.add(time.Millisecond)
			}
			if !visible() {
				t.Fatal("invisible after the lag")
			}
			inv, err := c.Get(ctx, "recent@example.com")
			if want := int64(1) + map[bool]int64{true: 1}[lag > 0]; err != nil || inv.State != invitations.StateInvited || inv.MailsSentCount != want {
				t.Fatalf("get = %+v, %v", inv, err)
			}
			// Accounts that were visible stay so.
			if _, err := c.Send(ctx, "nys@example.com"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Get(ctx, "nys@example.com"); err != nil {
				t.Fatalf("get of a listed account after a send: %v", err)
			}
		})
	}
}

// TestChangesEndpoint: other actors act while the emulator runs, through
// POST /_emulator/accounts; every email is counted by who sent it.
func TestChangesEndpoint(t *testing.T) {
	clk := newClock()
	srv, base, c := start(t, smallWorld(), emulator.Config{Now: clk.now}, invitations.V1)
	ctx := context.Background()
	if _, err := c.Send(ctx, "nys@example.com"); err != nil { // invitectl's email
		t.Fatal(err)
	}
	body, err := os.ReadFile("testdata/changes.json")
	if err != nil {
		t.Fatal(err)
	}
	code, resp := requestJSON(t, http.MethodPost, base+"/_emulator/accounts", string(body))
	if code != 200 {
		t.Fatalf("POST: HTTP %d %v", code, resp)
	}
	var got []string
	for _, a := range resp["accounts"].([]any) {
		got = append(got, a.(map[string]any)["email"].(string))
	}
	want := []string{"invited@example.com", "nys@example.com", "declined@example.com", "newcomer@example.com", "veteran@example.com", "managed@example.com", "accepted@example.com"}
	if !slices.Equal(got, want) {
		t.Fatalf("answered accounts %v, want %v", got, want)
	}
	st := srv.State()
	check := func(email string, f func(a emulator.AccountState) bool) {
		t.Helper()
		a, ok := st.Account(email)
		if !ok || !f(a) {
			t.Errorf("%s: %+v", email, a)
		}
	}
	check("invited@example.com", func(a emulator.AccountState) bool {
		return a.State == "ACCEPTED" && a.Mails == 2 && a.Emails == 0 && a.UpdateTime.Equal(clk.t)
	})
	check("nys@example.com", func(a emulator.AccountState) bool {
		return a.State == "INVITED" && a.Mails == 2 && a.Emails == 2 && a.EmailsFromAPI == 1 && a.EmailsFromOthers == 1 && a.Sends == 1
	})
	check("declined@example.com", func(a emulator.AccountState) bool {
		return a.State == "INVITED" && a.Mails == 4 && a.Emails == 0 && a.UpdateTime.Equal(time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC))
	})
	check("newcomer@example.com", func(a emulator.AccountState) bool {
		return a.Kind == "unmanaged" && a.State == "NOT_YET_SENT" && a.Recent && !a.Visible
	})
	check("veteran@example.com", func(a emulator.AccountState) bool { return !a.Recent && a.Visible })
	check("managed@example.com", func(a emulator.AccountState) bool { return a.Kind == "unmanaged" && a.Visible })
	check("accepted@example.com", func(a emulator.AccountState) bool { return a.Kind == "deleted" && !a.Visible })

	// The API sees it all.
	if inv, err := c.Get(ctx, "invited@example.com"); err != nil || inv.State != invitations.StateAccepted {
		t.Errorf("get after accept: %+v, %v", inv, err)
	}
	if ok, _ := c.IsInvitable(ctx, "newcomer@example.com"); !ok {
		t.Error("a new account is not invitable")
	}
	if _, err := c.Get(ctx, "newcomer@example.com"); !invitations.IsNotFound(err) {
		t.Errorf("get of an account created just now: %v, want not found", err)
	}
	if _, err := c.Send(ctx, "veteran@example.com"); !invitations.IsDenied(err) {
		t.Errorf("send to an account set to refuse: %v", err)
	}
	if _, err := c.Send(ctx, "accepted@example.com"); !invitations.IsPrecondition(err) {
		t.Errorf("send to a deleted account: %v", err)
	}
	if ok, _ := c.IsInvitable(ctx, "accepted@example.com"); ok {
		t.Error("a deleted account is invitable")
	}
	listed := listAll(t, c)
	for _, email := range []string{"veteran@example.com", "managed@example.com"} {
		if !slices.Contains(listed, email) {
			t.Errorf("list lacks %s: %v", email, listed)
		}
	}
	if slices.Contains(listed, "accepted@example.com") || slices.Contains(listed, "newcomer@example.com") {
		t.Errorf("list shows a deleted or new account: %v", listed)
	}

	// Reset forgets the changes and the accounts they created.
	if err := srv.Reset(); err != nil {
		t.Fatal(err)
	}
	st = srv.State()
	if _, ok := st.Account("newcomer@example.com"); ok {
		t.Error("reset kept a created account")
	}
	check("managed@example.com", func(a emulator.AccountState) bool { return a.Kind == "managed" })
	check("invited@example.com", func(a emulator.AccountState) bool { return a.State == "INVITED" })
}

// TestChangesRefused: bad input is a 400 naming the change and the problem,
// and a refused batch changes nothing.
func TestChangesRefused(t *testing.T) {
	srv, base, _ := start(t, smallWorld(), emulator.Config{}, invitations.V1)
	before := srv.State()
	cases := []struct{ body, want string }{
		{`{"email": "nys@example.com", "do": "send"}`, "want a JSON array"},
		{`[{"email": "nys@example.com", "do": "send"}, {"email": "nys@example.com", "do": "frob"}]`, `change 2 (nys@example.com): do "frob"`},
		{`[{"email": "nys@example.com"}]`, `change 1 (nys@example.com): a change needs "do" or "set"`},
		{`[{"email": "nys@example.com", "do": "send", "set": {}}]`, "not both"},
		{`[{"email": "not-an-address", "do": "send"}]`, "change 1 (not-an-address)"},
		{`[{"email": "nys@example.com", "do": "accept"}]`, "change 1 (nys@example.com): accept needs an INVITED invitation; this one is NOT_YET_SENT"},
		{`[{"email": "nys@example.com", "do": "send"}, {"email": "nys@example.com", "do": "accept"}, {"email": "nys@example.com", "do": "decline"}]`, "change 3 (nys@example.com): decline needs an INVITED invitation; this one is ACCEPTED"},
		{`[{"email": "ghost@example.com", "do": "send"}]`, "does not have a Google account"},
		{`[{"email": "ghost@example.com", "do": "cancel"}]`, "this one is no account"},
		{`[{"email": "managed@example.com", "do": "send"}]`, "already managed"},
		{`[{"email": "nys@example.com", "set": {"state": "PENDING"}}]`, `unknown state "PENDING"`},
		{`[{"email": "nys@example.com", "set": {"kind": "robot"}}]`, `kind "robot"`},
		{`[{"email": "nys@example.com", "set": {"mails": -1}}]`, "negative mails"},
		{`[{"email": "nys@example.com", "set": {"refuse": {"send": 500}}}]`, "code 500"},
		{`[{"email": "nys@example.com", "set": {"hold": {"send": "later"}}}]`, "change 1"},
		{`[{"email": "nys@example.com", "set": {"colour": "red"}}]`, `change 1: json: unknown field "colour"`},
	}
	for _, tc := range cases {
		code, body := requestJSON(t, http.MethodPost, base+"/_emulator/accounts", tc.body)
		e, _ := body["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if code != 400 || e["status"] != "INVALID_ARGUMENT" || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: HTTP %d %q, want 400 mentioning %q", tc.body, code, msg, tc.want)
		}
	}
	after := srv.State()
	if !slices.Equal(before.Accounts, after.Accounts) {
		t.Fatal("a refused batch changed accounts")
	}
}

// TestGoChanges: the same through the Go API, for in-process tests.
func TestGoChanges(t *testing.T) {
	srv, err := emulator.New(smallWorld(), emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Act("invited@example.com", emulator.ActDecline); err != nil {
		t.Fatal(err)
	}
	err = srv.Act("invited@example.com", emulator.ActAccept)
	var ce *emulator.ChangeError
	if !errors.As(err, &ce) || ce.Index != 1 || ce.Email != "invited@example.com" {
		t.Fatalf("accept of a declined invitation: %v", err)
	}
	recent := false
	if err := srv.Set("Fresh@Example.com", emulator.AccountChange{Recent: &recent, Refuse: map[string]int{"get": 404}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Act("fresh@example.com", emulator.ActSend); err != nil {
		t.Fatal(err)
	}
	st := srv.State()
	if a, _ := st.Account("invited@example.com"); a.State != "DECLINED" {
		t.Errorf("after decline: %+v", a)
	}
	if a, _ := st.Account("fresh@example.com"); a.State != "INVITED" || a.EmailsFromOthers != 1 || a.Emails != 1 || !a.Visible {
		t.Errorf("fresh account after another admin's send: %+v", a)
	}
	// Accounts created in one batch, out of order, are found by later
	// changes of the batch and afterwards.
	no := false
	states, err := srv.Apply(
		emulator.Change{Email: "zed@example.com", Set: &emulator.AccountChange{Recent: &no}},
		emulator.Change{Email: "abe@example.com", Set: &emulator.AccountChange{State: "INVITED"}},
		emulator.Change{Email: "zed@example.com", Do: emulator.ActSend},
		emulator.Change{Email: "abe@example.com", Do: emulator.ActDecline},
	)
	if err != nil || len(states) != 2 || states[0].Email != "zed@example.com" || states[0].Emails != 1 || states[1].State != "DECLINED" {
		t.Fatalf("batch of new accounts: %+v, %v", states, err)
	}
	st = srv.State()
	for i := 1; i < len(st.Accounts); i++ {
		if st.Accounts[i-1].Email >= st.Accounts[i].Email {
			t.Fatalf("accounts out of order at %d: %s, %s", i, st.Accounts[i-1].Email, st.Accounts[i].Email)
		}
	}
	if a, ok := st.Account("abe@example.com"); !ok || a.State != "DECLINED" {
		t.Fatalf("abe after the batch: %+v", a)
	}
	// An empty map clears a refusal.
	if err := srv.Set("fresh@example.com", emulator.AccountChange{Refuse: map[string]int{}}); err != nil {
		t.Fatal(err)
	}
	c, err := invitations.New(context.Background(), invitations.Config{Customer: customer, Endpoint: "http://emulator.invalid", Transport: srv.Transport()})
	if err != nil {
		t.Fatal(err)
	}
	if inv, err := c.Get(context.Background(), "fresh@example.com"); err != nil || inv.State != invitations.StateInvited {
		t.Fatalf("get after the refusal was cleared: %+v, %v", inv, err)
	}
}

// TestHeldSend: a send held past the client's timeout still lands and
// emails the person, after the hold; the hold is then used up (issue 8:
// "a late request").
func TestHeldSend(t *testing.T) {
	w := smallWorld()
	w.Users[0].Hold = map[string]emulator.Duration{"send": emulator.Duration(300 * time.Millisecond)}
	srv, err := emulator.New(w, emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, transport := range []string{"socket", "in-process"} {
		t.Run(transport, func(t *testing.T) {
			if err := srv.Reset(); err != nil {
				t.Fatal(err)
			}
			cfg := invitations.Config{Customer: customer, CallTimeout: 50 * time.Millisecond}
			if transport == "socket" {
				hs := httptestServer(t, srv)
				cfg.Endpoint = hs
			} else {
				cfg.Endpoint, cfg.Transport = "http://emulator.invalid", srv.Transport()
			}
			c, err := invitations.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Send(context.Background(), "nys@example.com")
			if !invitations.IsAmbiguous(err) {
				t.Fatalf("held send: %v (kind %v), want ambiguous (timed out)", err, invitations.KindOf(err))
			}
			st := srv.State()
			if a, _ := st.Account("nys@example.com"); a.Emails != 0 || a.State != "NOT_YET_SENT" || st.Held != 1 {
				t.Fatalf("before the hold ran out: %+v, held %d", a, st.Held)
			}
			// A read-back now shows no change: it proves nothing yet.
			if inv, err := c.Get(context.Background(), "nys@example.com"); err != nil || inv.MailsSentCount != 0 {
				t.Fatalf("read-back during the hold: %+v, %v", inv, err)
			}
			srv.WaitHeld()
			st = srv.State()
			if a, _ := st.Account("nys@example.com"); a.Emails != 1 || a.State != "INVITED" || a.Mails != 1 || st.Held != 0 {
				t.Fatalf("after the hold: %+v, held %d", a, st.Held)
			}
			// Used up: the next send is immediate.
			if _, err := c.Send(context.Background(), "nys@example.com"); err != nil {
				t.Fatalf("second send: %v", err)
			}
			if a, _ := srv.State().Account("nys@example.com"); a.Emails != 2 {
				t.Fatalf("after the second send: %+v", a)
			}
		})
	}
}

// TestHeldCallAnswersAPatientClient: a client that waits gets the answer.
func TestHeldCallAnswersAPatientClient(t *testing.T) {
	srv, _, c := start(t, smallWorld(), emulator.Config{}, invitations.V1)
	if err := srv.Set("invited@example.com", emulator.AccountChange{Hold: map[string]emulator.Duration{"cancel": emulator.Duration(30 * time.Millisecond)}}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	res, err := c.Cancel(context.Background(), "invited@example.com")
	if err != nil || res.Invitation == nil || res.Invitation.State != invitations.StateNotYetSent {
		t.Fatalf("held cancel = %+v, %v", res, err)
	}
	if d := time.Since(t0); d < 30*time.Millisecond {
		t.Fatalf("answered after %v, before the hold", d)
	}
}

func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return hs.URL
}

// A held send looks its account up again when the accounts moved while it
// waited: new accounts sorted in before it must not take its email.
func TestHeldSendAfterTheAccountsMoved(t *testing.T) {
	w := smallWorld()
	w.Users[0].Hold = map[string]emulator.Duration{"send": emulator.Duration(200 * time.Millisecond)}
	srv, err := emulator.New(w, emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := invitations.New(context.Background(), invitations.Config{Customer: customer,
		Endpoint: "http://emulator.invalid", Transport: srv.Transport()})
	if err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() {
		_, err := c.Send(context.Background(), "nys@example.com")
		sent <- err
	}()
	for srv.State().Held == 0 {
		time.Sleep(time.Millisecond)
	}
	// Accounts created now sort before nys@ and move it in the index.
	var news []emulator.Change
	for _, e := range []string{"aaa@example.com", "bbb@example.com", "mmm@example.com"} {
		news = append(news, emulator.Change{Email: e, Set: &emulator.AccountChange{State: "NOT_YET_SENT"}})
	}
	if _, err := srv.Apply(news...); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("held send: %v", err)
	}
	st := srv.State()
	if a, _ := st.Account("nys@example.com"); a.Emails != 1 || a.State != "INVITED" {
		t.Fatalf("nys@ after its held send: %+v", a)
	}
	for _, ch := range news {
		if a, _ := st.Account(ch.Email); a.Emails != 0 || a.State != "NOT_YET_SENT" {
			t.Fatalf("%s took the held send: %+v", ch.Email, a)
		}
	}
}
