package planner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
)

// checksWith writes a planning journal with the header's fields and lines.
func checksWith(t *testing.T, kind string, version int, customer, input string, created time.Time, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.planning.jsonl")
	h := `{"kind":"` + kind + `","version":` + map[int]string{1: "1", 2: "2"}[version] + `,"customer":"` + customer +
		`","input":"` + input + `","createdAt":"` + created.UTC().Format(time.RFC3339Nano) + `"}` + "\n"
	if err := os.WriteFile(path, []byte(h+strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A planning journal is continued only for the same kind, version,
// customer and input, while younger than maxAge; any other is replaced.
func TestOpenChecksContinuesOnlyItsOwn(t *testing.T) {
	now := time.Now()
	answer := `{"e":"a@x.org","i":true}`
	tests := []struct {
		name     string
		kind     string
		version  int
		customer string
		input    string
		created  time.Time
		want     int
	}{
		{"the same", ChecksKind, 1, "C1", "sha", now.Add(-time.Minute), 1},
		{"another kind", "invitectl/other", 1, "C1", "sha", now.Add(-time.Minute), 0},
		{"another version", ChecksKind, 2, "C1", "sha", now.Add(-time.Minute), 0},
		{"another customer", ChecksKind, 1, "C2", "sha", now.Add(-time.Minute), 0},
		{"another input", ChecksKind, 1, "C1", "other", now.Add(-time.Minute), 0},
		{"too old", ChecksKind, 1, "C1", "sha", now.Add(-2 * time.Hour), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := checksWith(t, tt.kind, tt.version, tt.customer, tt.input, tt.created, answer)
			c, n, err := OpenChecks(path, "C1", "sha", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, known := c.lookup("a@x.org")
			if n != tt.want || known != (tt.want == 1) {
				t.Errorf("%d answers (a@x.org known: %v), want %d", n, known, tt.want)
			}
			if tt.want == 0 {
				b, _ := os.ReadFile(path)
				if strings.Contains(string(b), "a@x.org") || !strings.Contains(string(b), `"customer":"C1"`) {
					t.Errorf("not replaced by a new journal for C1:\n%s", b)
				}
			}
		})
	}
}

// Answers for one address on several lines add up (a check, then a get);
// a torn line or one without an address is skipped.
func TestOpenChecksMergesAnswers(t *testing.T) {
	upd := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	path := checksWith(t, ChecksKind, 1, "C1", "sha", time.Now(),
		`{"e":"a@x.org","i":false}`,
		`{"e":"a@x.org","g":{"state":"INVITED","mailsSentCount":1,"updateTime":"2026-01-05T09:00:00Z"}}`,
		`{"e":"b@x.org","nf":true}`,
		`{"e":"b@x.org","i":true}`,
		`{"i":true}`,
		`{"e":"c@x.org","i":tr`)
	c, n, err := OpenChecks(path, "C1", "sha", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, _ := c.lookup("a@x.org")
	b, _ := c.lookup("b@x.org")
	_, cKnown := c.lookup("c@x.org")
	switch {
	case n != 2 || cKnown:
		t.Errorf("%d answers, c known %v; want a and b only", n, cKnown)
	case a.Invitable == nil || *a.Invitable || a.Got == nil || a.Got.State != invitations.StateInvited || !a.Got.UpdateTime.Equal(upd):
		t.Errorf("a: %+v, want not invitable and its get", a)
	case b.Invitable == nil || !*b.Invitable || !b.NotFound || b.Got != nil:
		t.Errorf("b: %+v, want invitable and not found", b)
	}
}

// Answers reach the file at least once a second while planning goes on (an
// interrupted plan keeps them), and all of them by Close; Close twice, or
// on no journal, is harmless.
func TestChecksFlushEverySecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "p.planning.jsonl")
		c, _, err := OpenChecks(path, "C1", "sha", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		yes := true
		c.record(answer{Email: "a@x.org", Invitable: &yes})
		if b, _ := os.ReadFile(path); strings.Contains(string(b), "a@x.org") {
			t.Error("flushed at once: the journal was meant to batch")
		}
		time.Sleep(1500 * time.Millisecond)
		c.record(answer{Email: "b@x.org", Invitable: &yes})
		if b, _ := os.ReadFile(path); !strings.Contains(string(b), "a@x.org") || !strings.Contains(string(b), "b@x.org") {
			t.Errorf("not flushed after a second:\n%s", b)
		}
		c.record(answer{Email: "c@x.org", Invitable: &yes})
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); !strings.Contains(string(b), "c@x.org") {
			t.Errorf("Close lost an answer:\n%s", b)
		}
		if err := c.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		var none *Checks
		none.record(answer{Email: "d@x.org"})
		if _, ok := none.lookup("d@x.org"); ok || none.Close() != nil {
			t.Error("a nil journal kept something or failed to close")
		}
	})
}

// A write that fails is Close's error, naming the journal.
func TestChecksWriteErrorIsCloseError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.planning.jsonl")
	c, _, err := OpenChecks(path, "C1", "sha", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.f.Close() // the descriptor is gone: every write and flush fails
	yes := true
	c.record(answer{Email: "a@x.org", Invitable: &yes})
	c.flushed = time.Now().Add(-time.Hour) // due
	c.record(answer{Email: "b@x.org", Invitable: &yes})
	if err := c.Close(); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Close = %v, want the write error naming %s", err, path)
	}
}

// Empty: no answer read and none recorded; an answer either way is kept.
func TestChecksEmpty(t *testing.T) {
	var none *Checks
	if !none.Empty() {
		t.Fatal("a nil journal is not empty")
	}
	path := filepath.Join(t.TempDir(), "p.planning.jsonl")
	c, _, err := OpenChecks(path, "C1", "sha", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Empty() {
		t.Fatal("a new journal is not empty")
	}
	yes := true
	c.record(answer{Email: "a@x.org", Invitable: &yes})
	if c.Empty() {
		t.Fatal("empty after an answer was recorded")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	again, n, err := OpenChecks(path, "C1", "sha", time.Hour)
	if err != nil || n != 1 || again.Empty() {
		t.Fatalf("reopened: %d answers, empty %v, %v", n, again.Empty(), err)
	}
	_ = again.Close()
}
