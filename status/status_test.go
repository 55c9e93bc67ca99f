package status

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/planner"
)

const customer = "C0stat01"

var now = time.Now().UTC()

// wave writes a plan of items and a journal in which every item is done at
// the given time, except those named pending.
func wave(t *testing.T, dir, name string, listed map[invitations.State]int, items []planner.Item, at map[string]time.Time, pending ...string) string {
	t.Helper()
	planPath := filepath.Join(dir, name+".jsonl")
	w, err := planner.CreateFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := w.Emit(it); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(planner.Header{Kind: planner.Kind, Version: planner.Version, Customer: customer, APIVersion: "v1",
		CreatedAt: now.Add(-time.Hour), Listed: listed, Columns: []string{"Team"}}); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	l, err := planner.Load(planPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".results.jsonl")
	j, err := journal.Create(path, journal.Header{Customer: customer, APIVersion: "v1", Plan: journal.PlanRef{Path: planPath, SHA256: l.SHA256, Items: len(items)}})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, it := range items {
		skip := false
		for _, p := range pending {
			skip = skip || p == it.Email
		}
		if skip {
			continue
		}
		when, ok := at[it.Email]
		if !ok {
			when = now.Add(-30 * time.Minute)
		}
		if err := j.Append(journal.Record{Type: journal.TypeOutcome, At: when, Row: it.Row, Email: it.Email, Action: string(it.Action),
			Reason: it.Reason, Outcome: journal.OutcomeDone, Attempts: 1}); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func send(row int, email, reason string) planner.Item {
	return planner.Item{Row: row, Email: email, Action: planner.ActionSend, Reason: reason,
		Columns: planner.Columns{{Name: "Team", Value: "team-" + email[:1]}}}
}

// TestFunnel: the states now, both ways of reading (a listing and gets for
// what it does not show, or gets alone) agreeing; two waves merged, the
// later cancel winning over the earlier send.
func TestFunnel(t *testing.T) {
	w := emulator.World{Customer: customer, Users: []emulator.User{
		{Email: "a@example.org", State: "INVITED", Mails: 2},
		{Email: "b@example.org", State: "ACCEPTED", Mails: 1},
		{Email: "c@example.org", State: "DECLINED", Mails: 1},
		{Email: "d@example.org", State: "NOT_YET_SENT", Mails: 1}, // cancelled by wave 2
		{Email: "e@example.org", Kind: "managed"},                 // gone
		{Email: "f@example.org", Recent: true},                    // sent just now, hidden
		{Email: "g@example.org", Recent: true},                    // sent days ago, still hidden: gone
		{Email: "h@example.org"},                                  // pending: not sent yet
	}}
	srv, err := emulator.New(w, emulator.Config{SendVisibilityLag: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	if err := srv.Act("f@example.org", emulator.ActSend); err != nil {
		t.Fatal(err)
	}
	client, err := invitations.New(context.Background(), invitations.Config{Customer: customer, Endpoint: hs.URL, CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	small := map[invitations.State]int{invitations.StateInvited: 3}
	big := map[invitations.State]int{invitations.StateInvited: 100_000}
	wave1 := []planner.Item{
		send(2, "a@example.org", planner.ReasonNotYetSent), send(3, "b@example.org", planner.ReasonNotYetSent),
		send(4, "c@example.org", planner.ReasonNotYetSent), send(5, "d@example.org", planner.ReasonNotYetSent),
		send(6, "e@example.org", planner.ReasonNotYetSent), send(7, "f@example.org", planner.ReasonUnlistedInvitable),
		send(8, "g@example.org", planner.ReasonUnlistedInvitable), send(9, "h@example.org", planner.ReasonNotYetSent),
		{Row: 10, Email: "x@example.org", Action: planner.ActionNone, Reason: planner.ReasonAccepted},
	}
	j1 := wave(t, dir, "wave1", small, wave1, map[string]time.Time{"g@example.org": now.Add(-96 * time.Hour)}, "h@example.org")
	wave2 := []planner.Item{{Row: 2, Email: "d@example.org", Action: planner.ActionCancel, Reason: planner.ReasonInvited}}
	for _, listed := range []map[invitations.State]int{small, big} {
		j2 := wave(t, t.TempDir(), "wave2", listed, wave2, map[string]time.Time{"d@example.org": now.Add(-time.Minute)})
		c, err := FromJournals([]string{j1, j2})
		if err != nil {
			t.Fatal(err)
		}
		reads, err := c.Read(context.Background(), Config{Client: client, Retry: pace.Policy{MaxAttempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		wantLists, wantGets := 1, 5 // the sent invitations, then d, e, f, g, h
		if listed["INVITED"] == big["INVITED"] {
			wantLists, wantGets = 0, 8
		}
		if reads.Lists != wantLists || reads.Gets != wantGets {
			t.Errorf("listed %v: %d list and %d get calls, want %d and %d", listed, reads.Lists, reads.Gets, wantLists, wantGets)
		}
		var got []string
		if err := c.Each(func(r Row) error {
			got = append(got, fmt.Sprintf("%s %s/%s %s %d %s", r.Email, r.Action, r.Outcome, r.State, r.MailsSentCount, r.Columns.Get("Team")))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"a@example.org send/done invited 2 team-a",
			"b@example.org send/done accepted 1 team-b",
			"c@example.org send/done declined 1 team-c",
			"e@example.org send/done gone 0 team-e",
			"f@example.org send/done unknown 0 team-f",
			"g@example.org send/done gone 0 team-g",
			"h@example.org send/pending not_yet_sent 0 team-h",
			"d@example.org cancel/done not_yet_sent 1 ",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("listed %v: rows\n%s\nwant\n%s", listed, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		s := c.Summarize()
		if s.Addresses != 8 || s.Sent != 6 || s.Accepted != 1 || s.Declined != 1 || s.Invited != 1 || s.NotYetSent != 2 || s.Gone != 2 || s.Unknown != 1 || s.Percent[Accepted] != 12.5 {
			t.Errorf("summary %+v", s)
		}
	}
}

// TestJSONKeys: the summary's keys are exactly the lowercase names of the
// issue (and more), the items an array.
func TestJSONKeys(t *testing.T) {
	c := &Campaign{byEmail: map[string]*entry{}, sources: []source{{name: "x"}}}
	c.add(&entry{email: "a@example.org", action: "send", outcome: "done", state: Accepted})
	var buf bytes.Buffer
	if err := WriteJSON(&buf, c); err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	var sum map[string]any
	_ = json.Unmarshal(doc["summary"], &sum)
	for _, k := range []string{"accepted", "declined", "invited", "not_yet_sent", "gone"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary lacks %q: %s", k, doc["summary"])
		}
	}
	var items []Row
	if err := json.Unmarshal(doc["items"], &items); err != nil || len(items) != 1 || items[0].State != Accepted {
		t.Errorf("items %s: %v", doc["items"], err)
	}
}

// TestFromLedger: every address the ledger knows, its latest call as the
// campaign's outcome.
func TestFromLedger(t *testing.T) {
	l, err := ledger.Open(t.TempDir(), customer, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	src := ledger.NewSource()
	src.Command = "send"
	ctx := context.Background()
	for email, effect := range map[string]ledger.Effect{"a@example.org": ledger.Took, "b@example.org": ledger.Unknown} {
		if err := l.Reserve(ctx, ledger.Claim{Source: src, Email: email, Action: ledger.Send, Force: true}); err != nil {
			t.Fatal(err)
		}
		if err := l.Record(ctx, src, email, ledger.Send, effect); err != nil {
			t.Fatal(err)
		}
	}
	c, err := FromLedger(l)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	_ = c.Each(func(r Row) error { got = append(got, r.Email+" "+r.Action+"/"+r.Outcome); return nil })
	if strings.Join(got, ", ") != "a@example.org send/done, b@example.org send/in_doubt" {
		t.Errorf("rows %q", got)
	}
}
