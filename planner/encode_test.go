package planner

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/source"
)

// encoded is what the plan's json.Encoder writes for it, its columns
// (the last field) encoded apart, a string at a time, so that the
// comparison does not run Columns' own encoding, which appendItem shares.
func encoded(t *testing.T, it Item) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	cols := it.Columns
	it.Columns = nil
	if err := enc.Encode(it); err != nil {
		t.Fatal(err)
	}
	if len(cols) == 0 {
		return b.Bytes()
	}
	line := bytes.TrimSuffix(b.Bytes(), []byte("}\n"))
	line = append(line, `,"columns":{`...)
	for i, c := range cols {
		if i > 0 {
			line = append(line, ',')
		}
		for j, s := range []string{c.Name, c.Value} {
			if j > 0 {
				line = append(line, ':')
			}
			var q bytes.Buffer
			e := json.NewEncoder(&q)
			e.SetEscapeHTML(false)
			if err := e.Encode(s); err != nil {
				t.Fatal(err)
			}
			line = append(line, bytes.TrimSuffix(q.Bytes(), []byte("\n"))...)
		}
	}
	return append(line, "}}\n"...)
}

// appendItem must write exactly what the Encoder writes, for every shape
// of item and every string: plans already written are read with the same
// decoder, and a plan's hash names its run lock.
func TestAppendItemIsTheEncoders(t *testing.T) {
	yes, no := true, false
	at := time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.UTC)
	items := []Item{
		{},
		{Row: 2, Email: "ann@example.org", Action: ActionSend, Reason: ReasonNotYetSent,
			Observed: &Observed{State: invitations.StateNotYetSent, UpdateTime: at}, Invitable: &yes},
		{Row: -1, Email: "bob@example.org", Action: ActionNone, Reason: ReasonNotInvitable, Invitable: &no,
			Error: "403 PERMISSION_DENIED", Detail: "removed invisible U+200B", FirstRow: 7,
			Columns: Columns{{Name: "Name", Value: "Bob"}, {Name: "Team", Value: ""}}},
		{Row: 3, Columns: Columns{}},
		{Observed: &Observed{UpdateTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", -5*3600)), MailsSentCount: -3}},
		{Observed: &Observed{}},
	}
	for _, s := range []string{
		`quote " and \ backslash`, "tab\tnew line\nreturn\rbell\x07nul\x00del\x7f",
		"<html> & friends", "José Müller 山田", "bad \xff\xfe utf-8", "line\u2028para\u2029", "=cmd|' /C calc'!A0",
		"\u007f\u0080\u00a0", "\ufeffbom", "\b\f",
	} {
		items = append(items, Item{Email: s, Reason: s, Action: Action(s), Error: s, Detail: s,
			Observed: &Observed{State: invitations.State(s)}, Columns: Columns{source.Column{Name: s, Value: s}}})
	}
	for i, it := range items {
		got, err := appendItem(nil, &it)
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		if want := encoded(t, it); !bytes.Equal(got, want) {
			t.Errorf("item %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// An update time the Encoder refuses is refused here too, and Emit then
// reports the Encoder's error.
func TestAppendItemRefusesWhatTheEncoderRefuses(t *testing.T) {
	it := Item{Observed: &Observed{UpdateTime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}
	if _, err := appendItem(nil, &it); err == nil {
		t.Fatal("appendItem took the year 10000")
	}
	w, err := CreateFile("")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Emit(it); err == nil || !bytes.Contains([]byte(err.Error()), []byte("year outside of range")) {
		t.Fatalf("Emit = %v, want the Encoder's range error", err)
	}
}

func FuzzAppendItem(f *testing.F) {
	for _, s := range []string{"", "ann@example.org", "\xff", "a\u2028b", `"\`, "<&>", "\x00\x1f"} {
		f.Add(s, s, int64(3), 5, true)
	}
	f.Fuzz(func(t *testing.T, email, name string, sec int64, row int, obs bool) {
		it := Item{Row: row, Email: email, Reason: name, FirstRow: row / 2, Detail: name,
			Columns: Columns{{Name: name, Value: email}}}
		if obs {
			it.Observed = &Observed{State: invitations.State(name), MailsSentCount: sec, UpdateTime: time.Unix(sec%(1<<35), sec%1e9).UTC()}
		}
		got, err := appendItem(nil, &it)
		if err != nil {
			return // the Encoder's own path then
		}
		if want := encoded(t, it); !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}
