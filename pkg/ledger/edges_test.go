package ledger

import (
	"context"
	"os"
	"strings"
	"testing"
)

// Latest is the most recent call that may have had an effect, whichever
// source made it, and none when every call provably had none. The ledger is
// written by hand so that the times are exact.
func TestLatestAcrossSources(t *testing.T) {
	const (
		a = "src\taaaa\t1000\t1\tapply\tsha\t\"/p\"\t\"/a.jsonl\"\n"
		b = "src\tbbbb\t1000\t2\tapply\tsha\t\"/p\"\t\"/b.jsonl\"\n"
		c = "src\tcccc\t1000\t3\tsend\t\t\"\"\t\"\"\n"
	)
	tests := []struct {
		name    string
		records string
		want    string // journal of the latest call, "" for none
		at      int64
		effect  Effect
	}{
		{"newer took effect", "i\t2000\taaaa\ts\tann\no\t2001\taaaa\ts\tann\ty\ni\t3000\tbbbb\ts\tann\no\t3001\tbbbb\ts\tann\ty\n", "/b.jsonl", 3000, Took},
		{"older listed last", "i\t3000\tbbbb\ts\tann\ni\t2000\taaaa\ts\tann\no\t2001\taaaa\ts\tann\ty\n", "/b.jsonl", 3000, Pending},
		{"newer had no effect", "i\t2000\taaaa\ts\tann\no\t2001\taaaa\ts\tann\tu\ni\t3000\tbbbb\ts\tann\no\t3001\tbbbb\ts\tann\tn\n", "/a.jsonl", 2000, Unknown},
		{"three sources", "i\t2000\taaaa\ts\tann\ni\t4000\tcccc\tc\tann\no\t4001\tcccc\tc\tann\ty\ni\t3000\tbbbb\ts\tann\n", "", 4000, Took},
		{"none had an effect", "i\t2000\taaaa\ts\tann\no\t2001\taaaa\ts\tann\tn\n", "-", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			body := "invitectl-ledger\t1\t" + cust + "\n" + a + b + c + tt.records
			if err := os.WriteFile(Path(dir, cust), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			l := open(t, dir, Options{})
			got, ok := l.Latest("ann")
			if tt.want == "-" {
				if ok {
					t.Fatalf("Latest = %+v, want none", got)
				}
				return
			}
			if !ok || got.Source.Journal != tt.want || got.At.UnixMilli() != tt.at || got.Effect != tt.effect {
				t.Fatalf("Latest = %+v (source %+v), %v; want %q at %d, %v", got, got.Source, ok, tt.want, tt.at, tt.effect)
			}
		})
	}
}

// Invalid arguments are refused before anything is written.
func TestInvalidArgumentsAreRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, customer := range []string{"", "C0\t1", "C0\n1"} {
		if _, err := Open(dir, customer, Options{}); err == nil {
			t.Errorf("Open(%q) opened a ledger", customer)
		}
	}
	l := open(t, dir, Options{})
	src := journalSource("j")
	for _, c := range []Claim{
		{Email: "ann@example.org", Action: Send},
		{Source: src, Email: "", Action: Send},
		{Source: src, Email: "ann@example.org\tx", Action: Send},
	} {
		if err := l.Reserve(ctx, c); err == nil || !strings.Contains(err.Error(), "invalid claim") {
			t.Errorf("Reserve(%+v) = %v, want an invalid claim", c, err)
		}
	}
	if err := l.Record(ctx, src, "ann@example.org", Send, Pending); err == nil {
		t.Error("Record of a pending effect was accepted")
	}
	if records, _ := l.Stats(); records != 0 {
		t.Errorf("%d records written", records)
	}
	for _, planSHA := range []string{"", strings.Repeat("a", 15)} {
		if lk, err := LockRun(dir, cust, planSHA, "x"); err == nil {
			_ = lk.Release()
			t.Errorf("LockRun with plan hash %q was taken", planSHA)
		}
	}
	if lk, err := LockRun(dir, "C0\t1", sha, "x"); err == nil {
		_ = lk.Release()
		t.Error("LockRun of an invalid customer was taken")
	}
	lk, err := LockRun(dir, cust, strings.Repeat("a", 16), "x") // the shortest hash it names
	if err != nil {
		t.Fatal(err)
	}
	if err := lk.Release(); err != nil {
		t.Fatal(err)
	}
	var none *RunLock
	if err := none.Release(); err != nil {
		t.Errorf("Release of no lock = %v", err)
	}
}
