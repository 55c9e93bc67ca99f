package planner

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/source"
)

// planRefusing plans every address of testdata/refusing-world.json, whose
// isInvitableUser refuses three of them on their own, as customer.
func planRefusing(t *testing.T, customer string) ([]Item, Header, error) {
	t.Helper()
	w, err := emulator.LoadWorld(filepath.Join("testdata", "refusing-world.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.New(w, emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := invitations.New(context.Background(), invitations.Config{Customer: customer, Endpoint: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	var input strings.Builder
	input.WriteString("email\n")
	for _, u := range w.Users {
		input.WriteString(u.Email + "\n")
	}
	cfg := Config{Client: c, Customer: customer, APIVersion: "v1", Policy: Policy{Action: WantInvite}, MaxInFlight: 4,
		Retry: pace.Policy{Base: time.Millisecond, Max: 2 * time.Millisecond, MaxAttempts: 3},
		Judge: invitations.NewJudge(invitations.Probe(c, nil))}
	targets := func(fn func(source.Target) error) (source.Info, error) {
		return source.Read(strings.NewReader(input.String()), "campaign.csv", source.Options{}, fn)
	}
	var items []Item
	hdr, err := Build(context.Background(), cfg, targets, nil, func(it Item) error {
		items = append(items, it)
		return nil
	})
	return items, hdr, err
}

// isInvitableUser answering 403, 404 or 400 for one address while every
// other call succeeds: the row is none/check_refused with the API's status
// and message, the plan goes on, and nothing blames --customer.
func TestCheckRefusedPerAddress(t *testing.T) {
	items, hdr, err := planRefusing(t, "C0plan2")
	if err != nil {
		t.Fatalf("a refusal of one address stopped the plan: %v", err)
	}
	want := map[string]string{
		"ann@example.com": "send/not_yet_sent",
		"bob@example.com": "none/check_refused",
		"cat@example.com": "none/check_refused",
		"dan@example.com": "none/check_refused",
		"eve@example.com": "send/unlisted_invitable",
	}
	codes := map[string]string{"bob@example.com": "403 PERMISSION_DENIED", "cat@example.com": "404 NOT_FOUND", "dan@example.com": "400 INVALID_ARGUMENT"}
	for _, it := range items {
		if got := string(it.Action) + "/" + it.Reason; got != want[it.Email] {
			t.Errorf("%s: %s, want %s", it.Email, got, want[it.Email])
		}
		if c := codes[it.Email]; c != "" && (!strings.Contains(it.Error, c) || strings.Contains(it.Error, "--customer")) {
			t.Errorf("%s: error %q, want the API's %s", it.Email, it.Error, c)
		}
	}
	if hdr.Summary.CheckRefused != 3 || hdr.Summary.CheckFailed != 0 {
		t.Errorf("summary %+v, want 3 refused and no failed check", hdr.Summary)
	}
}

// The same 403 for every check, confirmed by the probe (the credentials
// cannot act on this customer), stops the plan as a credential failure.
func TestCheckDeniedByCredentials(t *testing.T) {
	_, _, err := planRefusing(t, "C0other")
	if !invitations.IsAuth(err) {
		t.Fatalf("err = %v, want a credential failure", err)
	}
}
