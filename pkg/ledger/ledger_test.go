package ledger

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const cust = "C03abc123"

func open(t testing.TB, dir string, o Options) *Ledger {
	t.Helper()
	l, err := Open(dir, cust, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func journalSource(name string) *Source {
	s := NewSource()
	s.Command, s.PlanSHA, s.Plan, s.Journal = "apply", "abc", "/plans/p.jsonl", "/plans/"+name
	return s
}

func TestReserveRecordAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	l := open(t, dir, Options{})
	a := journalSource("a.results.jsonl")
	if err := l.Reserve(ctx, Claim{Source: a, Email: "ann@example.org", Action: Send}); err != nil {
		t.Fatal(err)
	}
	if c, ok := l.Latest("ann@example.org"); !ok || c.Effect != Pending || c.Action != Send || c.Source.ID != a.ID {
		t.Fatalf("Latest after Reserve = %+v, %v", c, ok)
	}
	if err := l.Record(ctx, a, "ann@example.org", Send, Took); err != nil {
		t.Fatal(err)
	}
	_ = l.Close()

	l2 := open(t, dir, Options{})
	c, ok := l2.Latest("ann@example.org")
	if !ok || c.Effect != Took || c.Source.Journal != a.Journal || c.Source.Plan != a.Plan {
		t.Fatalf("reopened: Latest = %+v (source %+v), %v", c, c.Source, ok)
	}
	if _, ok := l2.Latest("bob@example.org"); ok {
		t.Fatal("bob has no call")
	}
	if runtime.GOOS != "windows" {
		for path, want := range map[string]os.FileMode{dir: 0o700, Path(dir, cust): 0o600, Path(dir, cust) + ".lock": 0o600} {
			fi, err := os.Stat(path)
			if err != nil || fi.Mode().Perm() != want {
				t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode().Perm(), err, want)
			}
		}
	}
}

func TestConflictRules(t *testing.T) {
	ctx := context.Background()
	planned := time.Now().Add(-time.Hour)
	tests := []struct {
		name     string
		effect   Effect // of the other source's call, made now
		after    time.Time
		conflict bool
	}{
		{"other source still pending", Pending, planned, true},
		{"other source pending, even made before the plan", Pending, time.Now().Add(time.Hour), true},
		{"other source sent after the plan", Took, planned, true},
		{"other source in doubt after the plan", Unknown, planned, true},
		{"other source refused: no effect", None, planned, false},
		{"other source sent before the plan", Took, time.Now().Add(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := open(t, t.TempDir(), Options{})
			other, me := journalSource("other"), journalSource("me")
			if err := l.Reserve(ctx, Claim{Source: other, Email: "ann@example.org", Action: Send, After: planned}); err != nil {
				t.Fatal(err)
			}
			if tt.effect != Pending {
				if err := l.Record(ctx, other, "ann@example.org", Send, tt.effect); err != nil {
					t.Fatal(err)
				}
			}
			err := l.Reserve(ctx, Claim{Source: me, Email: "ann@example.org", Action: Send, After: tt.after})
			var c *Conflict
			if got := errors.As(err, &c); got != tt.conflict {
				t.Fatalf("Reserve = %v, want conflict %v", err, tt.conflict)
			}
			if tt.conflict && (c.Source.ID != other.ID || !strings.Contains(c.Error(), "journal /plans/other")) {
				t.Fatalf("conflict %v names %+v, want the other journal", c, c.Source)
			}
			// Forced, the intent is recorded anyway; the source's own calls
			// never stop it.
			if err := l.Reserve(ctx, Claim{Source: me, Email: "ann@example.org", Action: Send, After: tt.after, Force: true}); err != nil {
				t.Fatal(err)
			}
			if err := l.Reserve(ctx, Claim{Source: other, Email: "bob@example.org", Action: Cancel, After: planned}); err != nil {
				t.Fatal(err)
			}
			if err := l.Reserve(ctx, Claim{Source: other, Email: "bob@example.org", Action: Cancel, After: planned}); err != nil {
				t.Fatalf("own pending call stopped a second attempt: %v", err)
			}
		})
	}
}

// Two ledgers (as two processes would have) reserve the same addresses at
// once: each address goes to exactly one of them.
func TestReserveIsAtomicAcrossInstances(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const n = 200
	ledgers := []*Ledger{open(t, dir, Options{}), open(t, dir, Options{})}
	won := make([][]bool, len(ledgers))
	var wg sync.WaitGroup
	for k, l := range ledgers {
		won[k] = make([]bool, n)
		src := journalSource(fmt.Sprintf("j%d", k))
		for i := range n {
			wg.Go(func() {
				err := l.Reserve(ctx, Claim{Source: src, Email: fmt.Sprintf("user%03d@example.org", i), Action: Send})
				var c *Conflict
				switch {
				case err == nil:
					won[k][i] = true
				case !errors.As(err, &c):
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	for i := range n {
		if won[0][i] == won[1][i] {
			t.Fatalf("user%03d: won by both or neither (%v, %v)", i, won[0][i], won[1][i])
		}
	}
}

// The same across real processes: the test binary runs itself as reservers.
func TestReserveIsAtomicAcrossProcesses(t *testing.T) {
	if os.Getenv("LEDGER_RESERVER") != "" {
		t.Skip("child")
	}
	dir := t.TempDir()
	const procs, n = 3, 100
	cmds := make([]*exec.Cmd, procs)
	outs := make([]strings.Builder, procs)
	for k := range cmds {
		cmds[k] = exec.Command(os.Args[0], "-test.run=^TestReserverChild$")
		cmds[k].Env = append(os.Environ(), "LEDGER_RESERVER="+dir, "LEDGER_N="+strconv.Itoa(n))
		cmds[k].Stdout = &outs[k]
		if err := cmds[k].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for k, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("reserver %d: %v\n%s", k, err, outs[k].String())
		}
	}
	winners := map[string]int{}
	for k := range outs {
		for _, line := range strings.Fields(outs[k].String()) {
			if strings.HasPrefix(line, "won:") {
				winners[strings.TrimPrefix(line, "won:")]++
			}
		}
	}
	if len(winners) != n {
		t.Fatalf("%d addresses won, want %d", len(winners), n)
	}
	for e, w := range winners {
		if w != 1 {
			t.Fatalf("%s won %d times", e, w)
		}
	}
}

func TestReserverChild(t *testing.T) {
	dir := os.Getenv("LEDGER_RESERVER")
	if dir == "" {
		t.Skip("run by TestReserveIsAtomicAcrossProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv("LEDGER_N"))
	l, err := Open(dir, cust, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	src := journalSource(fmt.Sprintf("pid%d", os.Getpid()))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range n {
		wg.Go(func() {
			email := fmt.Sprintf("user%03d@example.org", i)
			err := l.Reserve(context.Background(), Claim{Source: src, Email: email, Action: Send})
			var c *Conflict
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				fmt.Println("won:" + email)
			case !errors.As(err, &c):
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// The intent is durable before Reserve returns: the sync happens inside it,
// and a failed sync fails the Reserve (and every later write).
func TestReserveSyncsBeforeReturning(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	syncs := 0
	fail := false
	l := open(t, t.TempDir(), Options{Sync: func(f *os.File) error {
		mu.Lock()
		defer mu.Unlock()
		syncs++
		if fail {
			return errors.New("disk gone")
		}
		return f.Sync()
	}})
	src := journalSource("j")
	if err := l.Reserve(ctx, Claim{Source: src, Email: "ann@example.org", Action: Send}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if syncs != 1 {
		t.Fatalf("%d syncs after one Reserve, want 1", syncs)
	}
	fail = true
	mu.Unlock()
	if err := l.Reserve(ctx, Claim{Source: src, Email: "bob@example.org", Action: Send}); err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Fatalf("Reserve with a failing sync = %v", err)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	if err := l.Reserve(ctx, Claim{Source: src, Email: "cat@example.org", Action: Send}); err == nil {
		t.Fatal("a ledger whose sync failed went on writing")
	}
}

func TestTornTailIsDropped(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := open(t, dir, Options{})
	src := journalSource("j")
	if err := l.Reserve(ctx, Claim{Source: src, Email: "ann@example.org", Action: Send}); err != nil {
		t.Fatal(err)
	}
	_ = l.Close()
	f, err := os.OpenFile(Path(dir, cust), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("o\t17000\t" + src.ID + "\ts\tann@exa") // a crash mid-write
	_ = f.Close()

	l2 := open(t, dir, Options{})
	if c, ok := l2.Latest("ann@example.org"); !ok || c.Effect != Pending {
		t.Fatalf("torn outcome was read: %+v", c)
	}
	if err := l2.Record(ctx, src, "ann@example.org", Send, Took); err != nil {
		t.Fatal(err)
	}
	_ = l2.Close()
	raw, _ := os.ReadFile(Path(dir, cust))
	if strings.Contains(string(raw), "ann@exa\n") || strings.Count(string(raw), "\n") != 5 {
		t.Fatalf("ledger after the torn line:\n%s", raw)
	}
	l3 := open(t, dir, Options{})
	if c, ok := l3.Latest("ann@example.org"); !ok || c.Effect != Took {
		t.Fatalf("after repair: %+v, %v", c, ok)
	}
}

func TestMalformedLineNamesIt(t *testing.T) {
	dir := t.TempDir()
	body := "invitectl-ledger\t1\t" + cust + "\nsrc\tabc\t1\t1\tapply\tsha\t\"p\"\t\"j\"\nx\tgarbage\n"
	if err := os.WriteFile(Path(dir, cust), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, cust, Options{})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 3 {
		t.Fatalf("Open = %v, want a ParseError at line 3", err)
	}
	if err := os.WriteFile(Path(dir, cust), []byte("invitectl-ledger\t1\tC0other\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, cust, Options{}); err == nil || !strings.Contains(err.Error(), "C0other") {
		t.Fatalf("another customer's ledger: %v", err)
	}
}

// Settled calls older than Since are forgotten, pending ones are kept.
func TestSinceForgetsSettledCalls(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := open(t, dir, Options{})
	src := journalSource("j")
	for _, e := range []string{"old@example.org", "stuck@example.org"} {
		if err := l.Reserve(ctx, Claim{Source: src, Email: e, Action: Send}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Record(ctx, src, "old@example.org", Send, Took); err != nil {
		t.Fatal(err)
	}
	_ = l.Close()
	l2 := open(t, dir, Options{Since: time.Now().Add(time.Hour)})
	if _, ok := l2.Latest("old@example.org"); ok {
		t.Fatal("a settled call older than Since was kept")
	}
	if c, ok := l2.Latest("stuck@example.org"); !ok || c.Effect != Pending {
		t.Fatalf("a pending call was forgotten: %+v, %v", c, ok)
	}
}

func TestDir(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		getenv func(string) string
		want   string
	}{
		{env("INVITECTL_STATE_DIR", "/x/state", "XDG_STATE_HOME", "/xdg"), "/x/state"},
		{env("XDG_STATE_HOME", "/xdg", "HOME", "/home/a"), filepath.Join("/xdg", "invitectl")},
		{env("XDG_STATE_HOME", "relative", "HOME", "/home/a"), filepath.Join("/home/a", ".local", "state", "invitectl")},
		{env("HOME", "/home/a"), filepath.Join("/home/a", ".local", "state", "invitectl")},
	}
	if runtime.GOOS == "windows" {
		t.Skip("the Unix layout")
	}
	for _, tt := range tests {
		if got, err := Dir(tt.getenv); err != nil || got != tt.want {
			t.Errorf("Dir = %q, %v; want %q", got, err, tt.want)
		}
	}
}
