package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/planner"
)

// crashWorld serves n unmanaged accounts (none of the 48-hour gap, whose
// killed sends would rightly end in doubt: the executor tests cover those)
// and writes the campaign naming them all.
type crashWorld struct {
	t     *testing.T
	n     int
	srv   *emulator.Server
	url   string
	dir   string
	state string
	input string
}

func newCrashWorld(t *testing.T, n int) *crashWorld {
	w := emulator.World{Customer: "C0crash1"}
	var csv strings.Builder
	csv.WriteString("email\n")
	for i := range n {
		e := fmt.Sprintf("person%03d@acme-corp.example", i)
		w.Users = append(w.Users, emulator.User{Email: e})
		csv.WriteString(e + "\n")
	}
	srv, err := emulator.New(w, emulator.Config{Latency: 30 * time.Millisecond, Jitter: 30 * time.Millisecond, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := &crashWorld{t: t, n: n, srv: srv, url: hs.URL, dir: t.TempDir(), state: t.TempDir()}
	c.input = filepath.Join(c.dir, "campaign.csv")
	if err := os.WriteFile(c.input, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// command runs the real binary against the world. The settle delay is well
// above the emulator's latency: a killed run's request lands within it.
func (c *crashWorld) command(args ...string) *exec.Cmd {
	switch args[0] {
	case "apply", "resume":
		args = append(args, "--no-progress", "--write-qps", "100", "--settle-delay", "500ms")
	}
	cmd := exec.Command("invitectl", args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "INVITECTL_ENDPOINT="+c.url, "INVITECTL_CUSTOMER=C0crash1", "INVITECTL_STATE_DIR="+c.state)
	return cmd
}

func (c *crashWorld) plan(name string) string {
	plan := filepath.Join(c.dir, name)
	if out, err := c.command("plan", "-i", c.input, "-o", plan, "--no-progress").CombinedOutput(); err != nil {
		c.t.Fatalf("plan: %v\n%s", err, out)
	}
	return plan
}

// killed starts cmd, kills it with SIGKILL once its journal holds a few more
// intents, a random moment later, and reports whether the kill landed
// (rather than the run ending first).
func (c *crashWorld) killed(rng *rand.Rand, cmd *exec.Cmd, results string) bool {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	want := intents(results) + 2 + rng.IntN(12)
	wait := time.Duration(rng.IntN(40)) * time.Millisecond
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	var err error
	ended := false
wait:
	for intents(results) < want && time.Now().Before(deadline) {
		select {
		case err = <-exited:
			ended = true // the run ended before the kill
			break wait
		case <-time.After(2 * time.Millisecond):
		}
	}
	if !ended {
		time.Sleep(wait)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err = <-exited
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.Sys().(syscall.WaitStatus).Signaled() {
		return true
	} else if err != nil && !strings.Contains(out.String(), "being applied by another invitectl") {
		c.t.Fatalf("%v: %v\n%s", cmd.Args, err, out.String())
	}
	return false
}

// atMostOnce fails the test as soon as anyone has two emails.
func (c *crashWorld) atMostOnce(when string) {
	for _, a := range c.srv.State().Accounts {
		if a.Sends > 1 {
			c.t.Fatalf("%s: %s received %d emails", when, a.Email, a.Sends)
		}
	}
}

func (c *crashWorld) exactlyOnce() {
	for _, a := range c.srv.State().Accounts {
		if a.Sends != 1 {
			c.t.Errorf("%s received %d emails, want exactly 1", a.Email, a.Sends)
		}
	}
}

// TestCrashAndResume kills apply with SIGKILL at random moments, resumes
// each time, then finishes: every planned address gets exactly one email.
func TestCrashAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	c := newCrashWorld(t, 200)
	plan := c.plan("plan.jsonl")
	results := filepath.Join(c.dir, "plan.results.jsonl")
	rng := rand.New(rand.NewPCG(20261124, 1))
	kills := 0
	for round := 0; kills < 10 && round < 30; round++ {
		args := []string{"apply", plan, "--yes"}
		if round > 0 {
			args = []string{"resume", results}
		}
		if c.killed(rng, c.command(args...), results) {
			kills++
		}
		c.atMostOnce(fmt.Sprintf("round %d", round))
	}
	if kills < 10 {
		t.Fatalf("only %d kills landed before the campaign finished", kills)
	}
	if out, err := c.command("resume", results).CombinedOutput(); err != nil {
		t.Fatalf("final resume: %v\n%s", err, out)
	}
	c.exactlyOnce()
	st, err := journal.Read(results)
	if err != nil {
		t.Fatal(err)
	}
	for k, rec := range st.Finals() {
		if rec.Outcome != journal.OutcomeDone {
			t.Errorf("%s: %+v", k, rec)
		}
	}
	if st.NumFinal() != c.n || len(st.Pending) != 0 {
		t.Fatalf("%d outcomes and %d pending intents, want %d and 0", st.NumFinal(), len(st.Pending), c.n)
	}
	t.Logf("%d kills; journal: %d records, %d runs, torn lines seen: %v", kills, st.Records, len(st.Runs), st.Torn)
}

// TestConcurrentCrashes plans one campaign twice (two plans, as two
// administrators or two 'invitectl run' would) and applies both at once,
// killing each at random moments and resuming, then finishes both: the
// customer's ledger gives every address to exactly one of them, and nobody
// gets a second email, whatever the kills interrupted. A copy of one plan
// applied under another journal meanwhile is either refused by the plan's
// run lock or, if it came first or after a kill, leaves the ledger to skip
// what it did.
func TestConcurrentCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	c := newCrashWorld(t, 200)
	plans := []string{c.plan("a.jsonl"), c.plan("b.jsonl")}
	results := []string{filepath.Join(c.dir, "a.results.jsonl"), filepath.Join(c.dir, "b.results.jsonl")}
	copyResults := filepath.Join(c.dir, "copy.results.jsonl")
	rng := rand.New(rand.NewPCG(20261129, 2))
	kills := 0
	for round := 0; kills < 10 && round < 30; round++ {
		var wg sync.WaitGroup
		landed := make([]bool, 2)
		seeds := []uint64{rng.Uint64(), rng.Uint64()}
		for k := range plans {
			args := []string{"apply", plans[k], "--yes"}
			if _, err := os.Stat(results[k]); err == nil {
				args = []string{"resume", results[k]}
			}
			cmd := c.command(args...)
			wg.Go(func() { landed[k] = c.killed(rand.New(rand.NewPCG(seeds[k], 0)), cmd, results[k]) })
		}
		if round == 0 {
			// The same plan again, under another journal, meanwhile: the run
			// lock refuses whichever of the two comes second, and if the
			// copy came first, the ledger skips what it did.
			wg.Go(func() {
				for deadline := time.Now().Add(10 * time.Second); intents(results[0]) == 0 && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond) // once the first run holds the plan
				}
				// At most 20 items (exit 5 then): a copy that comes after
				// a kill would otherwise finish the campaign, as it should,
				// and leave the kills nothing to interrupt.
				out, err := c.command("apply", plans[0], "--yes", "--results", copyResults, "--limit", "20").CombinedOutput()
				var ee *exec.ExitError
				limited := errors.As(err, &ee) && ee.ExitCode() == 5
				if err != nil && !limited && !strings.Contains(string(out), "being applied by another invitectl") {
					t.Errorf("the copy: %v\n%s", err, out)
				}
			})
		}
		wg.Wait()
		for _, l := range landed {
			if l {
				kills++
			}
		}
		c.atMostOnce(fmt.Sprintf("round %d", round))
	}
	if kills < 10 {
		t.Fatalf("only %d kills landed before the campaigns finished", kills)
	}
	for _, r := range results {
		out, err := c.command("resume", r).CombinedOutput()
		if err != nil && !strings.Contains(string(out), "skipped") {
			t.Fatalf("final resume of %s: %v\n%s", r, err, out)
		}
	}
	// A second pass settles what the other journal held in flight during
	// the first.
	for _, r := range results {
		_, _ = c.command("resume", r, "--retry-in-doubt").CombinedOutput()
	}
	c.exactlyOnce()
	done := map[string]int{}
	for _, r := range append(results, copyResults) {
		st, err := journal.Read(r)
		if errors.Is(err, fs.ErrNotExist) && r == copyResults {
			continue // refused before it began
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range st.Finals() {
			switch {
			case rec.Outcome == journal.OutcomeDone:
				done[rec.Email]++
			case rec.Outcome == journal.OutcomeSkipped && (rec.Reason == planner.ReasonAlreadySent ||
				rec.Reason == planner.ReasonInFlight || rec.Reason == planner.ReasonChangedSincePlan):
			default:
				t.Errorf("%s: %+v", r, rec)
			}
		}
	}
	for _, a := range c.srv.State().Accounts {
		if done[a.Email] != 1 {
			t.Errorf("%s is done in %d journals, want 1", a.Email, done[a.Email])
		}
	}
	t.Logf("%d kills", kills)
}

// intents counts the intent records in a journal (0 when it does not exist).
func intents(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte(`"type":"intent"`))
}
