package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
)

// interruptible gives the streams a signal channel and an exit that records
// its code instead of ending the test process.
func (s *testStreams) interruptible() (chan os.Signal, *atomic.Int64) {
	sigs := make(chan os.Signal, 2)
	var code atomic.Int64
	code.Store(-1)
	s.ios.signals = func() (<-chan os.Signal, func()) { return sigs, func() {} }
	s.ios.exit = func(c int) { code.Store(int64(c)) }
	return sigs, &code
}

// blocking is a standard input that never delivers, like a terminal nobody
// types at or a FIFO nobody writes to.
type blocking struct{ never chan struct{} }

func (b blocking) Read([]byte) (int, error) { <-b.never; return 0, io.EOF }

// A second interrupt quits at once, whatever the run is doing; the journal
// stays readable.
func TestSecondInterruptQuitsAtOnce(t *testing.T) {
	s := newTestStreams(t)
	// Sends are held long enough that the call in flight is still out when
	// the second interrupt lands, however loaded the machine.
	srv := s.emulate(t, emulator.Config{})
	plan := planned(t, s)
	for _, a := range []string{"omar.eriksen@acme-corp.example", "ada.berg@acme-corp.example", "hana.ito@acme-corp.example"} {
		if err := srv.Set(a, emulator.AccountChange{Hold: map[string]emulator.Duration{"send": emulator.Duration(3 * time.Second)}}); err != nil {
			t.Fatal(err)
		}
	}
	sigs, exit := s.interruptible()
	done := make(chan int, 1)
	go func() { done <- s.run("apply", plan, "--yes", "--no-progress", "--workers", "1", "--write-qps", "1") }()
	deadline := time.Now().Add(10 * time.Second)
	for srv.State().Held == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	sigs <- os.Interrupt
	for !strings.Contains(s.errOut.String(), "Ctrl-C again") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	sigs <- os.Interrupt
	for exit.Load() < 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if exit.Load() != exitInterrupted || !strings.Contains(s.errOut.String(), "quitting at once") {
		t.Fatalf("exit %d after a second interrupt; stderr:\n%s", exit.Load(), s.errOut.String())
	}
	<-done // the in-process run, which os.Exit would have ended, drains
}

// Ctrl-C at the confirmation prompt aborts with 130; the next line typed is
// never taken as the answer, and nothing is sent.
func TestInterruptAtThePrompt(t *testing.T) {
	s := newTestStreams(t)
	srv := s.emulate(t, emulator.Config{})
	plan := planned(t, s)
	sigs, _ := s.interruptible()
	s.setTTY(true, false, false)
	s.ios.in = blocking{make(chan struct{})}
	done := make(chan int, 1)
	go func() { done <- s.run("apply", plan, "--no-progress") }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.errOut.String(), "Type yes to continue") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	sigs <- os.Interrupt
	select {
	case code := <-done:
		if code != exitInterrupted || srv.State().Calls["send"] != 0 {
			t.Fatalf("exit %d, %d sends; want 130 and none", code, srv.State().Calls["send"])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the prompt did not end on Ctrl-C")
	}
	// Nothing was in flight: the note says so much and no more.
	if got := s.errOut.String(); strings.Contains(got, "calls in flight") || !strings.Contains(got, "invitectl: interrupted (press Ctrl-C again to quit at once)") {
		t.Errorf("stderr after Ctrl-C at the prompt:\n%s", got)
	}
	if _, err := os.Stat(strings.TrimSuffix(plan, ".jsonl") + ".results.jsonl"); err == nil {
		t.Fatal("a journal was created for a plan that was never confirmed")
	}
}

// A plan blocked reading its input (standard input, a FIFO) ends on Ctrl-C.
func TestInterruptWhileReadingTheInput(t *testing.T) {
	s := newTestStreams(t)
	srv := s.emulate(t, emulator.Config{})
	sigs, _ := s.interruptible()
	s.ios.in = blocking{make(chan struct{})}
	out := filepath.Join(t.TempDir(), "plan.jsonl")
	done := make(chan int, 1)
	go func() { done <- s.run("plan", "-i", "-", "-o", out, "--no-progress") }()
	time.Sleep(50 * time.Millisecond)
	sigs <- os.Interrupt
	select {
	case code := <-done:
		if code != exitInterrupted || srv.State().Calls["list"] != 0 {
			t.Fatalf("exit %d, calls %v; want 130 and none", code, srv.State().Calls)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading the input did not end on Ctrl-C")
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("an interrupted plan was written")
	}
}

// plan without -o never replaces a plan: a new, timestamped name each time;
// -o naming a folder, a file in a missing folder, a plan that has a results
// journal, or the campaign itself is refused before any API call.
func TestPlanNames(t *testing.T) {
	s := newTestStreams(t)
	srv := s.emulate(t, emulator.Config{})
	dir := t.TempDir()
	campaign := filepath.Join(dir, "campaign.csv")
	if err := os.WriteFile(campaign, []byte("email\nomar.eriksen@acme-corp.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chdir(wd) })
	for range 2 {
		if code := s.run("plan", campaign, "--no-progress"); code != 0 {
			t.Fatalf("plan: exit %d\n%s", code, s.errOut.String())
		}
	}
	plans, _ := filepath.Glob(filepath.Join(dir, "invitectl-plan-*.jsonl"))
	if len(plans) != 2 {
		t.Fatalf("two plans without -o left %v, want two files", plans)
	}
	lists := srv.State().Calls["list"]
	applied := filepath.Join(dir, "applied.jsonl")
	for _, f := range []string{applied, filepath.Join(dir, "applied.results.jsonl")} {
		if err := os.WriteFile(f, []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, out := range []string{dir, filepath.Join(dir, "missing", "plan.jsonl"), applied, campaign} {
		s.errOut.Reset()
		if code := s.run("plan", campaign, "-o", out, "--no-progress"); code != exitUsage || !strings.Contains(s.errOut.String(), out) {
			t.Errorf("-o %s: exit %d\n%s", out, code, s.errOut.String())
		}
	}
	if n := srv.State().Calls["list"]; n != lists {
		t.Fatalf("a refused -o made %d API calls", n-lists)
	}
}

// report and status refuse a bad -o before reading anything or calling the
// API, as plan does: a folder, a file in a missing folder, a plan that has
// a results journal, or the journal they read.
func TestReportAndStatusOutputChecks(t *testing.T) {
	s := newTestStreams(t)
	srv := s.emulate(t, emulator.Config{})
	plan := planned(t, s)
	if code := s.run("apply", plan, "--yes", "--no-progress"); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, s.errOut.String())
	}
	dir := filepath.Dir(plan)
	results := strings.TrimSuffix(plan, ".jsonl") + ".results.jsonl"
	journal, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	calls := srv.State().Calls
	for _, cmd := range []string{"report", "status"} {
		for _, out := range []string{dir, filepath.Join(dir, "missing", "out.csv"), plan, results} {
			s.errOut.Reset()
			s.out.Reset()
			code := s.run(cmd, results, "--format", "csv", "-o", out, "--no-progress")
			if code != exitUsage || !strings.Contains(s.errOut.String(), "-o "+out) || s.out.String() != "" {
				t.Errorf("%s -o %s: exit %d, want 2 naming -o\nstdout %s\nstderr %s", cmd, out, code, s.out.String(), s.errOut.String())
			}
			if strings.Contains(s.errOut.String(), "warning") || strings.Contains(s.errOut.String(), "Read ") {
				t.Errorf("%s -o %s: the journal was read before -o was refused:\n%s", cmd, out, s.errOut.String())
			}
		}
		// Refused before the journal is even opened: the -o is named, not
		// the missing journal.
		s.errOut.Reset()
		if code := s.run(cmd, filepath.Join(dir, "nope.results.jsonl"), "-o", dir); code != exitUsage || !strings.Contains(s.errOut.String(), "is a folder") {
			t.Errorf("%s of a missing journal -o a folder: exit %d\n%s", cmd, code, s.errOut.String())
		}
	}
	if now := srv.State().Calls; !reflect.DeepEqual(now, calls) {
		t.Errorf("a refused -o made API calls: %v, then %v", calls, now)
	}
	if after, _ := os.ReadFile(results); string(after) != string(journal) {
		t.Error("the journal changed")
	}
	for _, f := range []string{plan, results} {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// An interrupted apply prints the command that resumes it with the flags
// that reach the same API and ledger (here --endpoint and --state-dir, as
// given, shell-quoted): without them the resume would call Google, and
// would not see the ledger that keeps the campaign exactly-once.
func TestInterruptedApplySaysHowToResume(t *testing.T) {
	s := newTestStreams(t)
	srv := s.emulate(t, emulator.Config{})
	plan := planned(t, s)
	endpoint := s.env["INVITECTL_ENDPOINT"]
	delete(s.env, "INVITECTL_ENDPOINT")
	state := filepath.Join(t.TempDir(), "state dir")
	if err := srv.Set("omar.eriksen@acme-corp.example", emulator.AccountChange{Hold: map[string]emulator.Duration{"send": emulator.Duration(300 * time.Millisecond)}}); err != nil {
		t.Fatal(err)
	}
	sigs, _ := s.interruptible()
	done := make(chan int, 1)
	go func() {
		done <- s.run("--endpoint", endpoint, "--state-dir", state, "apply", plan, "--yes", "--no-progress", "--workers", "1", "--write-qps", "1")
	}()
	deadline := time.Now().Add(10 * time.Second)
	for srv.State().Held == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	sigs <- os.Interrupt
	select {
	case code := <-done:
		results := strings.TrimSuffix(plan, ".jsonl") + ".results.jsonl"
		want := "Resume with: invitectl resume " + results + " --endpoint " + endpoint + " --state-dir '" + state + "'\n"
		if code != exitInterrupted || !strings.Contains(s.errOut.String(), want) ||
			!strings.Contains(s.errOut.String(), "invitectl: interrupted; finishing calls in flight (press Ctrl-C again to quit at once)") {
			t.Fatalf("exit %d, want 130 and %q; stderr:\n%s", code, want, s.errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the interrupted apply did not end")
	}
}
