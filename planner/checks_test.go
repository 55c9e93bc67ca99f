package planner

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/source"
)

// stopAfter cancels planning once n isInvitableUser calls have answered.
type stopAfter struct {
	Reader
	n      int64
	calls  atomic.Int64
	cancel context.CancelFunc
}

func (s *stopAfter) IsInvitable(ctx context.Context, email string) (bool, error) {
	ok, err := s.Reader.IsInvitable(ctx, email)
	if s.calls.Add(1) == s.n {
		s.cancel()
	}
	return ok, err
}

// An interrupted plan keeps the checks it paid for in the planning journal;
// planning the same input again asks only the rest, and decides the same.
func TestInterruptedPlanKeepsItsChecks(t *testing.T) {
	w := emulator.World{Customer: "C0chk1"}
	var input strings.Builder
	input.WriteString("email\n")
	for i := range 60 {
		e := fmt.Sprintf("r%02d@example.com", i)
		w.Users = append(w.Users, emulator.User{Email: e, Recent: i%3 != 0}) // listed or not, each is checked
		input.WriteString(e + "\n")
	}
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
	path := filepath.Join(t.TempDir(), "plan.planning.jsonl")
	run := func(client Reader, ctx context.Context) ([]Item, *Stats, error) {
		checks, _, err := OpenChecks(path, w.Customer, "sha-of-the-input", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		defer checks.Close()
		cfg := Config{Client: client, Customer: w.Customer, Policy: Policy{Action: WantInvite}, MaxInFlight: 4, Checks: checks,
			Retry: pace.Policy{Base: time.Millisecond, Max: 2 * time.Millisecond, MaxAttempts: 3}}
		targets := func(fn func(source.Target) error) (source.Info, error) {
			return source.Read(strings.NewReader(input.String()), "campaign.csv", source.Options{}, fn)
		}
		var items []Item
		stats := new(Stats)
		_, err = Build(ctx, cfg, targets, stats, func(it Item) error { items = append(items, it); return nil })
		return items, stats, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := &stopAfter{Reader: c, n: 15, cancel: cancel}
	if _, _, err := run(first, ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted plan: %v", err)
	}
	// Counted at the client: a call that the interrupt cut off may or may
	// not have reached the server, and is not kept either way.
	paid := first.calls.Load()
	second := &stopAfter{Reader: c, n: -1, cancel: func() {}}
	items, stats, err := run(second, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	asked := second.calls.Load()
	if stats.Reused.Load() < 15 || int64(asked)+stats.Reused.Load() != 60 {
		t.Fatalf("second plan asked %d and reused %d of 60 checks (the first paid for %d)", asked, stats.Reused.Load(), paid)
	}
	fresh, _, err := run(c, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		if items[i].Action != fresh[i].Action || items[i].Reason != fresh[i].Reason {
			t.Errorf("row %d: %s/%s with reused checks, %s/%s without", items[i].Row, items[i].Action, items[i].Reason, fresh[i].Action, fresh[i].Reason)
		}
	}
	// Another input, or a stale journal, starts afresh.
	if _, n, _ := OpenChecks(path, w.Customer, "another input", time.Hour); n != 0 {
		t.Fatalf("a journal of another input gave %d answers", n)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("planning journal: %v, %v", fi, err)
	}
}
