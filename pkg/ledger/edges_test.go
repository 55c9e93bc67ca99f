package ledger

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// Latest is the most recent call that may have had an effect, whichever
// source made it, and none when every call provably had none. The ledger is
// written by hand so that the times are exact.
func TestLatestAcrossSources(t *testing.T) {
	const srcC = "src\tcccc\t1000\t3\tsend\t\t\"\"\t\"\"\n" // a single command
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
			ledgerFile(t, dir, srcA, srcB, srcC, tt.records)
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

// ledgerFile writes a ledger by hand: the header, then lines.
func ledgerFile(t *testing.T, dir string, lines ...string) string {
	t.Helper()
	path := Path(dir, cust)
	body := "invitectl-ledger\t1\t" + cust + "\n" + strings.Join(lines, "")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	srcA = "src\taaaa\t1000\t1\tapply\tsha\t\"/p\"\t\"/a.jsonl\"\n"
	srcB = "src\tbbbb\t1000\t2\tapply\tsha\t\"/p\"\t\"/b.jsonl\"\n"
)

// A conflict in the middle of a group commit settles that claim alone:
// the claims after it in the batch are written, durably, like any other.
func TestConflictInABatch(t *testing.T) {
	dir := t.TempDir()
	ledgerFile(t, dir, srcA, "i\t2000\taaaa\ts\tann\n")
	l := open(t, dir, Options{})
	me := journalSource("me")
	batch := []*request{
		{claim: &Claim{Source: me, Email: "ann", Action: Send}, done: make(chan struct{})},
		{claim: &Claim{Source: me, Email: "bob", Action: Send}, done: make(chan struct{})},
		{outcome: &call{src: me, action: Send, effect: Took}, email: "bob", done: make(chan struct{})},
	}
	if err := l.lock.Lock(); err != nil {
		t.Fatal(err)
	}
	err := l.commit(batch)
	_ = l.lock.Unlock()
	var c *Conflict
	if err != nil || !errors.As(batch[0].err, &c) || batch[1].err != nil || batch[2].err != nil {
		t.Fatalf("commit = %v; claim errors %v, %v, %v; want a conflict for ann alone", err, batch[0].err, batch[1].err, batch[2].err)
	}
	if records, syncs := l.Stats(); records != 2 || syncs != 1 {
		t.Errorf("Stats = %d records, %d syncs; want bob's intent and outcome in one fsync", records, syncs)
	}
	l2 := open(t, dir, Options{})
	if got, ok := l2.Latest("bob"); !ok || got.Effect != Took || got.Source.ID != me.ID {
		t.Errorf("reopened, bob: %+v, %v; want took effect by this source", got, ok)
	}
}

// A conflict names the most recent of the other sources' calls.
func TestConflictNamesTheLatest(t *testing.T) {
	dir := t.TempDir()
	ledgerFile(t, dir, srcA, srcB,
		"i\t3000\tbbbb\ts\tann\no\t3001\tbbbb\ts\tann\ty\n",
		"i\t2000\taaaa\ts\tann\no\t2001\taaaa\ts\tann\ty\n")
	l := open(t, dir, Options{})
	err := l.Reserve(context.Background(), Claim{Source: journalSource("me"), Email: "ann", Action: Send, After: time.UnixMilli(1500)})
	var c *Conflict
	if !errors.As(err, &c) || c.Source.Journal != "/b.jsonl" || c.At.UnixMilli() != 3000 {
		t.Fatalf("Reserve = %v, want a conflict naming b's call at 3000", err)
	}
}

// A journal keeps its source ID across runs, each with a Source of its
// own: a later run's outcome settles the earlier run's intent, and another
// source's record never touches it.
func TestOneSourceAcrossRuns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first := journalSource("j")
	l := open(t, dir, Options{})
	if err := l.Reserve(ctx, Claim{Source: first, Email: "ann", Action: Send}); err != nil {
		t.Fatal(err)
	}
	_ = l.Close()

	again := *first // the resumed run: same ID, another Source
	other := journalSource("other")
	l2 := open(t, dir, Options{})
	if err := l2.Reserve(ctx, Claim{Source: &again, Email: "ann", Action: Send}); err != nil {
		t.Fatalf("the journal's own earlier intent stopped it: %v", err)
	}
	if err := l2.Record(ctx, &again, "ann", Send, None); err != nil {
		t.Fatal(err)
	}
	if got, ok := l2.Latest("ann"); ok {
		t.Fatalf("after the journal settled its call without effect: Latest = %+v", got)
	}
	// Another source's forced call, then its refusal, leave a call of the
	// journal's that took effect as it was.
	if err := l2.Reserve(ctx, Claim{Source: &again, Email: "bob", Action: Send}); err != nil {
		t.Fatal(err)
	}
	if err := l2.Record(ctx, &again, "bob", Send, Took); err != nil {
		t.Fatal(err)
	}
	if err := l2.Reserve(ctx, Claim{Source: other, Email: "bob", Action: Send, Force: true}); err != nil {
		t.Fatal(err)
	}
	if err := l2.Record(ctx, other, "bob", Send, None); err != nil {
		t.Fatal(err)
	}
	_ = l2.Close()
	l3 := open(t, dir, Options{})
	for _, l := range []*Ledger{l2, l3} {
		got, ok := l.Latest("bob")
		if !ok || got.Effect != Took || got.Source.ID != first.ID {
			t.Errorf("bob: %+v, %v; want the journal's call that took effect", got, ok)
		}
	}
	if got, ok := l3.Latest("ann"); ok {
		t.Errorf("reopened, ann: %+v", got)
	}
	if records, syncs := l2.Stats(); records != 6 || syncs != 6 {
		t.Errorf("Stats = %d records, %d syncs; want 6 and 6 (one call at a time)", records, syncs)
	}
}

// A ledger of several megabytes reads whole, across the reader's chunks.
func TestBigLedger(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(srcA)
	const n = 60_000 // about 2.5 MB: lines cross the 1 MiB chunks
	for i := range n {
		fmt.Fprintf(&b, "i\t%d\taaaa\ts\tuser%06d@example.org\n", 2000+i, i)
	}
	ledgerFile(t, dir, b.String())
	l := open(t, dir, Options{})
	for _, i := range []int{0, 1, 25_000, 26_214, n - 1} {
		email := fmt.Sprintf("user%06d@example.org", i)
		if got, ok := l.Latest(email); !ok || got.At.UnixMilli() != int64(2000+i) {
			t.Errorf("%s: %+v, %v", email, got, ok)
		}
	}
	if len(l.index) != n {
		t.Errorf("%d addresses read, want %d", len(l.index), n)
	}
}

// A torn tail longer than what is appended next is cut away, not merely
// overwritten.
func TestLongTornTailIsCut(t *testing.T) {
	dir := t.TempDir()
	path := ledgerFile(t, dir, srcA, "i\t2000\taaaa\ts\tann\n", "o\t2001\taaaa\ts\tann\ty"+strings.Repeat("x", 300))
	l := open(t, dir, Options{})
	if err := l.Record(context.Background(), journalSource("j"), "bob", Send, None); err != nil {
		t.Fatal(err)
	}
	_ = l.Close()
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "xxx") {
		t.Fatalf("the torn tail survived:\n%s", raw)
	}
	l2 := open(t, dir, Options{})
	if got, ok := l2.Latest("ann"); !ok || got.Effect != Pending {
		t.Errorf("ann: %+v, %v; want the intent, pending", got, ok)
	}
}

// Every malformed line is refused, naming it.
func TestMalformedLines(t *testing.T) {
	tests := []struct{ name, header, line string }{
		{"another file", "not-a-ledger\t1\t" + cust + "\n", ""},
		{"header with more", "invitectl-ledger\t1\t" + cust + "\tx\n", ""},
		{"newer version", "invitectl-ledger\t2\t" + cust + "\n", ""},
		{"version not a number", "invitectl-ledger\tone\t" + cust + "\n", ""},
		{"bad action", "", "i\t2000\taaaa\tx\tann\n"},
		{"long action", "", "i\t2000\taaaa\tss\tann\n"},
		{"bad effect", "", "o\t2000\taaaa\ts\tann\tz\n"},
		{"long effect", "", "o\t2000\taaaa\ts\tann\tyy\n"},
		{"bad time", "", "i\tsoon\taaaa\ts\tann\n"},
		{"unknown source", "", "i\t2000\tzzzz\ts\tann\n"},
		{"intent with an effect", "", "i\t2000\taaaa\ts\tann\ty\n"},
		{"source too short", "", "src\tcccc\t1000\t1\tapply\n"},
		{"unknown record", "", "q\t2000\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			header := tt.header
			if header == "" {
				header = "invitectl-ledger\t1\t" + cust + "\n"
			}
			body := header + srcA + "i\t1500\taaaa\ts\tann\n" + tt.line
			if err := os.WriteFile(Path(dir, cust), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			want := 4
			if tt.header != "" {
				want = 1
			}
			// A line of the caller's own source is checked as strictly,
			// though it is not kept.
			for _, o := range []Options{{}, {Own: "aaaa"}} {
				_, err := Open(dir, cust, o)
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Line != want {
					t.Errorf("Open(%+v) = %v, want a ParseError at line %d", o, err, want)
				}
			}
		})
	}
	// An outcome whose intent was forgotten is no error: ignored.
	dir := t.TempDir()
	ledgerFile(t, dir, srcA, "o\t2000\taaaa\ts\tann\ty\n")
	if l := open(t, dir, Options{}); len(l.index) != 0 {
		t.Errorf("index %v", l.index)
	}
}

// A line longer than the read chunk (a source whose plan path is absurdly
// long), appended by another process, is read whole, and the lines after
// it too.
func TestLineLongerThanTheChunk(t *testing.T) {
	dir := t.TempDir()
	path := ledgerFile(t, dir)
	l := open(t, dir, Options{})
	long := "/" + strings.Repeat("p", readChunk+readChunk/2)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(f, "src\tllll\t1000\t1\tapply\tsha\t%q\t\"/l.jsonl\"\ni\t2000\tllll\ts\tann\n", long); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	if err := l.Refresh(); err != nil {
		t.Fatal(err)
	}
	c, ok := l.Latest("ann")
	if !ok {
		t.Fatal("the call after the long line was not read")
	}
	if c.Source.Plan != long || c.Source.Journal != "/l.jsonl" {
		t.Fatalf("source with a plan path of %d bytes, journal %q", len(c.Source.Plan), c.Source.Journal)
	}
}

// With Options.Own, the caller's own calls are neither read into the index
// nor added by its own Reserve and Record, while another source's calls
// still stop its claims.
func TestOwnCallsAreNotKept(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ledgerFile(t, dir, srcA, srcB,
		"i\t2000\taaaa\ts\tann@example.org\n", "o\t2001\taaaa\ts\tann@example.org\ty\n",
		"i\t2002\taaaa\ts\tpending@example.org\n",
		"i\t2003\tbbbb\ts\tbob@example.org\n", "o\t2004\tbbbb\ts\tbob@example.org\ty\n")
	all := open(t, dir, Options{})
	for _, e := range []string{"ann@example.org", "pending@example.org", "bob@example.org"} {
		if _, ok := all.Latest(e); !ok {
			t.Fatalf("without Own: no call for %s", e)
		}
	}
	_ = all.Close()

	l := open(t, dir, Options{Own: "aaaa"})
	for _, e := range []string{"ann@example.org", "pending@example.org"} {
		if c, ok := l.Latest(e); ok {
			t.Errorf("own call for %s kept: %+v", e, c)
		}
	}
	if c, ok := l.Latest("bob@example.org"); !ok || c.Source.ID != "bbbb" {
		t.Fatalf("another source's call: %+v, %v", c, ok)
	}
	a := &Source{ID: "aaaa", Command: "apply", PlanSHA: "sha", Plan: "/p", Journal: "/a.jsonl"}
	var conflict *Conflict
	if err := l.Reserve(ctx, Claim{Source: a, Email: "bob@example.org", Action: Send}); !errors.As(err, &conflict) || conflict.Source.ID != "bbbb" {
		t.Fatalf("Reserve of an address another source sent to = %v, want its conflict", err)
	}
	if err := l.Reserve(ctx, Claim{Source: a, Email: "cy@example.org", Action: Send}); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(ctx, a, "cy@example.org", Send, Took); err != nil {
		t.Fatal(err)
	}
	if c, ok := l.Latest("cy@example.org"); ok {
		t.Errorf("own new call kept: %+v", c)
	}
	if len(l.index) != 1 {
		t.Errorf("index holds %d addresses, want only bob's", len(l.index))
	}
	_ = l.Close()
	// What it wrote is there for everyone else.
	if c, ok := open(t, dir, Options{}).Latest("cy@example.org"); !ok || c.Effect != Took || c.Source.ID != "aaaa" {
		t.Fatalf("own call as others read it: %+v, %v", c, ok)
	}
}
