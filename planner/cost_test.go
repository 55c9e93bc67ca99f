package planner

import (
	"context"
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

// bigWorld has n unmanaged accounts in every state, plus a few recent ones.
func bigWorld(n int) emulator.World {
	w := emulator.World{Customer: "C0cost1"}
	for i := range n {
		u := emulator.User{Email: fmt.Sprintf("u%07d@example.com", i)}
		switch i % 7 {
		case 1:
			u.State, u.Mails = "INVITED", 1
		case 2:
			u.State, u.Mails = "ACCEPTED", 1
		case 3:
			u.Recent = true
		}
		w.Users = append(w.Users, u)
	}
	return w
}

// planCalls plans rows addresses spread over w with the given row count
// hint and returns the items and the API calls made.
func planCalls(t testing.TB, w emulator.World, rows []string, hint int, p Policy) ([]Item, map[string]int) {
	srv, err := emulator.New(w, emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c, err := invitations.New(context.Background(), invitations.Config{Customer: w.Customer, Endpoint: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	input := "email\n" + strings.Join(rows, "\n") + "\n"
	cfg := Config{Client: c, Customer: w.Customer, APIVersion: "v1", Policy: p, Rows: hint,
		Retry: pace.Policy{Base: time.Millisecond, Max: 2 * time.Millisecond, MaxAttempts: 3}}
	targets := func(fn func(source.Target) error) (source.Info, error) {
		return source.Read(strings.NewReader(input), "campaign.csv", source.Options{}, fn)
	}
	var items []Item
	if _, err := Build(context.Background(), cfg, targets, nil, func(it Item) error {
		items = append(items, it)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return items, srv.State().Calls
}

// A 20-row campaign in a tenant of 20,000 unmanaged accounts: the listing
// stops after 10 pages and the rows it did not show are read one by one,
// deciding exactly as the whole listing would, for at most 3 calls a row.
func TestSmallCampaignInABigTenant(t *testing.T) {
	w := bigWorld(20_000)
	var rows []string
	for i := range 20 {
		rows = append(rows, fmt.Sprintf("u%07d@example.com", i*997))
	}
	rows = append(rows[:19], "nobody@example.com")
	p := Policy{Action: WantInvite, TrustList: true, ResendAfter: Duration(time.Hour)}
	got, calls := planCalls(t, w, rows, len(rows), p)
	want, full := planCalls(t, w, rows, 0, p)
	total := calls["list"] + calls["get"] + calls["isInvitableUser"]
	if total > 3*len(rows) || calls["list"] > len(rows)/2 {
		t.Fatalf("%d calls for %d rows (%v), want at most 3 a row", total, len(rows), calls)
	}
	if full["list"] != 86 { // the 17,143 accounts older than 48 hours
		t.Fatalf("the whole listing took %d pages, want 86", full["list"])
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Action != w.Action || g.Reason != w.Reason || (g.Observed == nil) != (w.Observed == nil) {
			t.Errorf("row %d %s: %s/%s, the whole listing says %s/%s", g.Row, g.Email, g.Action, g.Reason, w.Action, w.Reason)
		}
	}
}

// BenchmarkSmallCampaignCalls reports the plan calls per row of a 20-row
// campaign in a world of 200,000 unmanaged accounts (target: at most 3).
func BenchmarkSmallCampaignCalls(b *testing.B) {
	w := bigWorld(200_000)
	var rows []string
	for i := range 20 {
		rows = append(rows, fmt.Sprintf("u%07d@example.com", i*9973))
	}
	for b.Loop() {
		_, calls := planCalls(b, w, rows, len(rows), Policy{Action: WantInvite, TrustList: true})
		b.ReportMetric(float64(calls["list"]+calls["get"]+calls["isInvitableUser"])/float64(len(rows)), "calls/row")
	}
}
