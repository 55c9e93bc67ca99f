package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/report"
)

// TestCrashAndResume kills apply with SIGKILL at random moments, resumes
// each time, then finishes: every planned address gets exactly one email.
// The world has no accounts of the 48-hour gap, whose killed sends would
// rightly end in doubt (the executor tests cover those).
func TestCrashAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	const n = 200
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
	defer hs.Close()

	dir := t.TempDir()
	input := filepath.Join(dir, "campaign.csv")
	if err := os.WriteFile(input, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "plan.jsonl")
	results := filepath.Join(dir, "plan.results.jsonl")
	command := func(args ...string) *exec.Cmd {
		cmd := exec.Command("invitectl", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "INVITECTL_ENDPOINT="+hs.URL, "INVITECTL_CUSTOMER=C0crash1")
		return cmd
	}
	if out, err := command("plan", "-i", input, "-o", plan, "--no-progress").CombinedOutput(); err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}

	rng := rand.New(rand.NewPCG(20261124, 1))
	kills := 0
	for round := 0; kills < 10 && round < 30; round++ {
		args := []string{"apply", plan, "--yes", "--no-progress", "--write-qps", "100"}
		if round > 0 {
			args = []string{"resume", results, "--no-progress", "--write-qps", "100"}
		}
		cmd := command(args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		before := intents(results)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill once the run has made a few calls, a random moment later.
		want := before + 2 + rng.IntN(12)
		deadline := time.Now().Add(20 * time.Second)
		for intents(results) < want && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok && ee.Sys().(syscall.WaitStatus).Signaled() {
			kills++
		} else if err != nil {
			t.Fatalf("round %d: %v\n%s", round, err, out.String())
		}
		for _, a := range srv.State().Accounts {
			if a.Sends > 1 {
				t.Fatalf("round %d: %s received %d emails", round, a.Email, a.Sends)
			}
		}
	}
	if kills < 10 {
		t.Fatalf("only %d kills landed before the campaign finished", kills)
	}

	out, err := command("resume", results, "--no-progress", "--write-qps", "100").CombinedOutput()
	if err != nil {
		t.Fatalf("final resume: %v\n%s", err, out)
	}
	for _, a := range srv.State().Accounts {
		if a.Sends != 1 {
			t.Errorf("%s received %d emails, want exactly 1", a.Email, a.Sends)
		}
	}
	st, err := report.Read(results)
	if err != nil {
		t.Fatal(err)
	}
	for k, rec := range st.Final {
		if rec.Outcome != report.OutcomeDone {
			t.Errorf("%s: %+v", k, rec)
		}
	}
	if len(st.Final) != n || len(st.Pending) != 0 {
		t.Fatalf("%d outcomes and %d pending intents, want %d and 0", len(st.Final), len(st.Pending), n)
	}
	t.Logf("%d kills; journal: %d records, %d runs, torn lines seen: %v", kills, st.Records, len(st.Runs), st.Torn)
}

// intents counts the intent records in a journal (0 when it does not exist).
func intents(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte(`"type":"intent"`))
}
