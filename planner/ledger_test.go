package planner

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/pkg/source"
)

// ledgerAt writes the customer's ledger by hand (its documented format),
// so that its calls are dated relative to the planner's clock, and opens
// it. Each call is "EMAIL ACTION AGE EFFECT", EFFECT one of y, n, u or -
// (pending).
func ledgerAt(t *testing.T, customer string, calls ...string) *ledger.Ledger {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "invitectl-ledger\t1\t%s\n", customer)
	fmt.Fprintf(&b, "src\tS1\t%d\t1\tapply\tsha\t%q\t%q\n", now.UnixMilli(), "/plans/p1.jsonl", "/plans/p1.results.jsonl")
	for _, c := range calls {
		f := strings.Fields(c)
		if len(f) != 4 {
			t.Fatalf("call %q: want EMAIL ACTION AGE EFFECT", c)
		}
		email, action, effect := f[0], f[1], f[3]
		age, err := time.ParseDuration(f[2])
		if err != nil {
			t.Fatal(err)
		}
		at := now.Add(-age).UnixMilli()
		fmt.Fprintf(&b, "i\t%d\tS1\t%s\t%s\n", at, action[:1], email)
		if effect != "-" {
			fmt.Fprintf(&b, "o\t%d\tS1\t%s\t%s\t%s\n", at+1, action[:1], email, effect)
		}
	}
	if err := os.WriteFile(ledger.Path(dir, customer), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(dir, customer, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// Planning consults the ledger for the items that would act: invitectl's
// own call within the lag window that the listing does not show yet stops
// a second email (recently_sent, recently_cancelled); a call without an
// outcome stops it too (in_flight, naming the journal to resume). A call
// older than the window, one the listing already shows, or one that had
// no effect changes nothing, nor does any call change an item that does
// not act.
func TestPlanConsultsTheLedger(t *testing.T) {
	w := testWorld()
	w.Users = append(w.Users, emulator.User{Email: "refused-before@example.com"})
	for i := range w.Users {
		if w.Users[i].Email == "invited-new@example.com" {
			w.Users[i].UpdateTime = now.Add(-time.Hour)
		}
	}
	l := ledgerAt(t, w.Customer,
		"recent@example.com send 1h y",
		"nys@example.com send 2h -",
		"invited-old@example.com send 100h y",
		"invited-new@example.com send 2h y",
		"accepted@example.com send 1h -",
		"refused-before@example.com send 1h n",
		"declined@example.com send 10m u",
	)
	input := "email\nrecent@example.com\nnys@example.com\ninvited-old@example.com\ninvited-new@example.com\naccepted@example.com\nrefused-before@example.com\ndeclined@example.com\n"
	items, hdr, _, _, err := planWorld(t, w, Policy{ResendAfter: Duration(30 * time.Minute), ReinviteDeclined: true}, input,
		func(cfg *Config) { cfg.Ledger = l })
	if err != nil {
		t.Fatal(err)
	}
	want := `2 recent@example.com none/recently_sent
3 nys@example.com none/in_flight
4 invited-old@example.com send/resend
5 invited-new@example.com send/resend
6 accepted@example.com none/accepted
7 refused-before@example.com send/not_yet_sent
8 declined@example.com none/recently_sent
`
	if got := decisions(items); got != want {
		t.Fatalf("decisions:\n%s\nwant:\n%s", got, want)
	}
	for _, c := range []struct {
		row    int
		detail string
	}{
		{0, "invitectl made a send at 2026-11-24T11:00:00Z (plan /plans/p1.jsonl, journal /plans/p1.results.jsonl; took effect) that the API does not show yet"},
		{1, "journal /plans/p1.results.jsonl has a send with no outcome since 2026-11-24T10:00:00Z: resume it (invitectl resume /plans/p1.results.jsonl)"},
		{6, "invitectl made a send at 2026-11-24T11:50:00Z (plan /plans/p1.jsonl, journal /plans/p1.results.jsonl; unknown) that the API does not show yet"},
	} {
		if got := items[c.row].Detail; got != c.detail {
			t.Errorf("%s: detail %q\nwant %q", items[c.row].Email, got, c.detail)
		}
	}
	if hdr.LagWindow != Duration(DefaultLagWindow) {
		t.Errorf("header lag window %v, want the default", hdr.LagWindow)
	}

	// A cancel within the window; and a shorter window forgets the send of
	// an hour ago.
	l = ledgerAt(t, w.Customer, "stray@example.com cancel 1h y", "recent@example.com send 1h y")
	items, _, _, _, err = planWorld(t, w, Policy{Action: WantCancel}, "email\nstray@example.com\n", func(cfg *Config) { cfg.Ledger = l })
	if err != nil {
		t.Fatal(err)
	}
	if got := decisions(items); got != "2 stray@example.com none/recently_cancelled\n" {
		t.Errorf("cancel: %s", got)
	}
	items, hdr, _, _, err = planWorld(t, w, Policy{}, "email\nrecent@example.com\n", func(cfg *Config) { cfg.Ledger, cfg.LagWindow = l, 30*time.Minute })
	if err != nil {
		t.Fatal(err)
	}
	if got := decisions(items); got != "2 recent@example.com send/unlisted_invitable\n" || hdr.LagWindow != Duration(30*time.Minute) {
		t.Errorf("lag window 30m: %s (header %v)", got, hdr.LagWindow)
	}
}

// An unlisted account's send says in the plan that the API cannot show
// whether it was invited by someone else; a note joins what cleaning the
// address said.
func TestUnlistedSendIsNoted(t *testing.T) {
	const note = "the API cannot show whether someone else invited this account already (accounts created in the last 48 hours are not listed)"
	items, _, _, err := plan(t, Policy{}, "email\nrecent@example.com\nnys@example.com\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if items[0].Detail != note || items[1].Detail != "" {
		t.Errorf("details %q, %q; want the note on the unlisted account alone", items[0].Detail, items[1].Detail)
	}
	items, _, _, err = plan(t, Policy{}, "email\nmailto:recent@example.com\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, want := items[0].Detail, `taken from "mailto:recent@example.com"; `+note; d != want {
		t.Errorf("detail %q, want %q", d, want)
	}
}

// A check refused for one address is that row's outcome (check_refused,
// with the API's status and message): a 404 or 400 always, a 403 when the
// judge's probe shows the credentials work. Without a judge a 403 stops
// the plan, as does a 403 whose probe fails too.
func TestCheckRefused(t *testing.T) {
	w := testWorld()
	w.Users = append(w.Users,
		emulator.User{Email: "r404@example.com", Refuse: map[string]int{"isInvitableUser": 404}},
		emulator.User{Email: "r400@example.com", Refuse: map[string]int{"isInvitableUser": 400}},
		emulator.User{Email: "r403@example.com", Refuse: map[string]int{"isInvitableUser": 403}})
	probeOK := func(cfg *Config) {
		cfg.Judge = invitations.NewJudge(invitations.Probe(cfg.Client, nil))
	}
	probeFails := func(cfg *Config) {
		cfg.Judge = invitations.NewJudge(func(context.Context) error {
			return &invitations.Error{Kind: invitations.KindDenied, Method: "list", HTTPCode: 403, Status: "PERMISSION_DENIED"}
		})
	}
	const all = "email\nr404@example.com\nr400@example.com\nr403@example.com\nnys@example.com\n"
	tests := []struct {
		name      string
		input     string
		configure func(*Config)
		want      string
		refused   int64
		err       func(error) bool
	}{
		{"judged", all, probeOK, "2 r404@example.com none/check_refused\n3 r400@example.com none/check_refused\n4 r403@example.com none/check_refused\n5 nys@example.com send/not_yet_sent\n", 3, nil},
		{"no judge, 404 and 400", "email\nr404@example.com\nr400@example.com\n", nil, "2 r404@example.com none/check_refused\n3 r400@example.com none/check_refused\n", 2, nil},
		{"no judge, 403", all, nil, "", 0, invitations.IsDenied},
		{"probe fails", all, probeFails, "", 0, invitations.IsAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, hdr, _, stats, err := planWorld(t, w, Policy{}, tt.input, tt.configure)
			if tt.err != nil {
				if !tt.err(err) {
					t.Fatalf("Build = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := decisions(items); got != tt.want {
				t.Fatalf("decisions:\n%s\nwant:\n%s", got, tt.want)
			}
			if stats.Refused.Load() != tt.refused || stats.Failed.Load() != 0 || hdr.Summary.CheckFailed != 0 {
				t.Errorf("refused %d, failed %d, summary %+v", stats.Refused.Load(), stats.Failed.Load(), hdr.Summary)
			}
			if e := items[0].Error; e != "isInvitableUser: HTTP 404 NOT_FOUND: Requested entity was not found." {
				t.Errorf("refusal recorded as %q", e)
			}
		})
	}
}

// Every sent invitation the input does not name is pruned, and an error
// writing one stops the plan with it.
func TestPruneEmitError(t *testing.T) {
	srv, err := emulator.New(testWorld(), emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := invitations.New(context.Background(), invitations.Config{Customer: "C0plan1", Endpoint: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	targets := func(fn func(source.Target) error) (source.Info, error) {
		return source.Read(strings.NewReader("email\nnys@example.com\n"), "campaign.csv", source.Options{}, fn)
	}
	cfg := Config{Client: c, Customer: "C0plan1", Policy: Policy{Prune: true}}
	for _, failAt := range []int{0, 1, 2} {
		boom := errors.New("disk full")
		var pruned []string
		_, err := Build(context.Background(), cfg, targets, nil, func(it Item) error {
			if it.Reason != ReasonNotInInput {
				return nil
			}
			if len(pruned) == failAt {
				return boom
			}
			pruned = append(pruned, it.Email)
			return nil
		})
		if !errors.Is(err, boom) || len(pruned) != failAt {
			t.Errorf("failing at pruned item %d: %v after %v", failAt, err, pruned)
		}
	}
	var pruned []string
	if _, err := Build(context.Background(), cfg, targets, nil, func(it Item) error {
		if it.Reason == ReasonNotInInput {
			pruned = append(pruned, it.Email)
		}
		return nil
	}); err != nil || strings.Join(pruned, " ") != "invited-new@example.com invited-old@example.com stray@example.com" {
		t.Errorf("pruned %v, %v", pruned, err)
	}
}
