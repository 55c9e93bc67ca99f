package ledger

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestEach: every address with a call that may have had an effect, in
// address order, each with its latest call; a call with no effect is not
// listed, and fn's error stops the walk.
func TestEach(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	l := open(t, dir, Options{})
	a, b := journalSource("a.results.jsonl"), journalSource("b.results.jsonl")
	steps := []struct {
		src    *Source
		email  string
		act    Action
		effect Effect // Pending: only the intent
	}{
		{a, "carl@example.org", Send, Took},
		{a, "ann@example.org", Send, Took},
		{b, "ann@example.org", Cancel, Unknown},
		{a, "bob@example.org", Send, None},
		{b, "dora@example.org", Send, Pending},
	}
	for _, s := range steps {
		if err := l.Reserve(ctx, Claim{Source: s.src, Email: s.email, Action: s.act, Force: true}); err != nil {
			t.Fatal(err)
		}
		if s.effect != Pending {
			if err := l.Record(ctx, s.src, s.email, s.act, s.effect); err != nil {
				t.Fatal(err)
			}
		}
	}
	var got []string
	if err := l.Each(func(c Call) error {
		got = append(got, fmt.Sprintf("%s %s %s %s", c.Email, c.Action, c.Effect, filepath.Base(c.Source.Journal)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := "ann@example.org cancel unknown b.results.jsonl|carl@example.org send took effect a.results.jsonl|dora@example.org send pending b.results.jsonl"
	if strings.Join(got, "|") != want {
		t.Errorf("Each gave\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	stop := errors.New("stop")
	n := 0
	if err := l.Each(func(Call) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("Each went on after an error: %v, %d calls", err, n)
	}
}
