package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/auth"
	"github.com/invitectl/invitectl/pkg/emulator"
)

// planned makes a plan of three sends against the streams' emulator and
// returns its path.
func planned(t *testing.T, s *testStreams) string {
	t.Helper()
	dir := t.TempDir()
	campaign := filepath.Join(dir, "campaign.csv")
	rows := "email\nomar.eriksen@acme-corp.example\nada.berg@acme-corp.example\nhana.ito@acme-corp.example\n"
	if err := os.WriteFile(campaign, []byte(rows), 0o600); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "plan.jsonl")
	if code := s.run("plan", "-i", campaign, "-o", plan, "--no-progress"); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, s.errOut.String())
	}
	s.out.Reset()
	s.errOut.Reset()
	return plan
}

// TestConfirmPrompt is item 10: apply asks on a terminal; yes applies,
// anything else, the end of input included, declines with exit 2 and no
// call.
func TestConfirmPrompt(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		tty, quiet   bool
		want         int
		stderr       string
	}{
		{"yes", "yes\n", true, false, 0, ": 3 invitation emails to send, 0 invitations to cancel, 0 rows with nothing to do.\nApply it? Type yes to continue: "},
		{"YES without a newline", " YES", true, false, 0, "Apply it?"},
		{"no", "no\n", true, false, exitUsage, "not applied: the answer was not yes"},
		{"y is not yes", "y\n", true, false, exitUsage, "not applied"},
		{"end of input", "", true, false, exitUsage, "Type yes to continue: \ninvitectl: not applied"},
		{"no terminal", "yes\n", false, false, exitUsage, "there is no terminal to ask on; pass --yes"},
		{"quiet still asks", "no\n", true, true, exitUsage, "Apply it? Type yes to continue: invitectl: not applied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestStreams(t)
			srv := s.emulate(t, emulator.Config{})
			plan := planned(t, s)
			s.setTTY(tc.tty, false, false)
			s.setInput(tc.answer)
			args := []string{"apply", plan, "--no-progress"}
			if tc.quiet {
				args = append(args, "--quiet")
			}
			code := s.run(args...)
			if code != tc.want || !strings.Contains(s.errOut.String(), tc.stderr) {
				t.Errorf("exit %d, want %d; stderr:\n%s\nwant it to hold %q", code, tc.want, s.errOut.String(), tc.stderr)
			}
			sends := srv.State().Calls["send"]
			if (tc.want == 0) != (sends == 3) || (tc.want != 0 && sends != 0) {
				t.Errorf("%d sends after exit %d", sends, code)
			}
		})
	}
}

// TestProgressLineFitsTheTerminal is items 5 and 10: apply's progress
// line, redrawn on a terminal of 60 columns, never reaches the last
// column, so a redraw never leaves a new line behind.
func TestProgressLineFitsTheTerminal(t *testing.T) {
	for _, width := range []int{60, 0} {
		s := newTestStreams(t)
		s.emulate(t, emulator.Config{Latency: 50 * time.Millisecond})
		plan := planned(t, s)
		s.setTTY(false, false, true)
		s.setWidth(width)
		if code := s.run("apply", plan, "--yes", "--write-qps", "4"); code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, s.errOut.String())
		}
		limit := width - 1
		if width == 0 {
			limit = 79 // unknown: 80 columns
		}
		redraws := 0
		for _, line := range strings.Split(s.errOut.String(), "\n") {
			if !strings.Contains(line, "\r") {
				continue
			}
			for _, seg := range strings.Split(line, "\r")[1:] {
				redraws++
				if n := len([]rune(seg)); n > limit || !strings.HasPrefix(seg, "applying") {
					t.Errorf("width %d: a redraw of %d columns: %q", width, n, seg)
				}
			}
		}
		if redraws < 2 {
			t.Errorf("width %d: %d redraws in\n%q", width, redraws, s.errOut.String())
		}
	}
}

// TestMessages is item 9: what the messages say, and when.
func TestMessages(t *testing.T) {
	t.Run("no program name twice", func(t *testing.T) {
		s := newTestStreams(t)
		code := s.run("get")
		if code != exitUsage || !strings.HasPrefix(s.errOut.String(), "invitectl: get: requires at least 1 arg") {
			t.Errorf("exit %d: %q", code, s.errOut.String())
		}
		s.errOut.Reset()
		s.run("auth", "check", "extra")
		if !strings.HasPrefix(s.errOut.String(), "invitectl: auth check: unknown command") &&
			!strings.HasPrefix(s.errOut.String(), "invitectl: auth check: accepts 0 arg") {
			t.Errorf("auth check extra: %q", s.errOut.String())
		}
	})

	t.Run("sandbox banner after argument errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"--sandbox", "get", "not an address"},
			{"--sandbox", "list", "--state", "sent"},
			{"--sandbox", "get", "--format", "yaml", "ada.berg@acme-corp.example"},
			{"--sandbox", "plan", "--action", "delete", "-i", "x.csv"},
			{"--sandbox", "apply", filepath.Join(t.TempDir(), "no-such-plan.jsonl")},
		} {
			s := newTestStreams(t)
			if code := s.run(args...); code != exitUsage || strings.Contains(s.errOut.String(), "sandbox:") {
				t.Errorf("%v: exit %d\n%s", args, code, s.errOut.String())
			}
		}
		s := newTestStreams(t)
		if code := s.run("--sandbox", "--sandbox-latency", "0", "get", "ada.berg@acme-corp.example"); code != 0 ||
			!strings.HasPrefix(s.errOut.String(), "sandbox: emulated customer C03abc123") {
			t.Errorf("a good command: exit %d\n%s", code, s.errOut.String())
		}
	})

	t.Run("SIGTERM to the emulator", func(t *testing.T) {
		s := newTestStreams(t)
		sigs := make(chan os.Signal, 1)
		s.ios.signals = func() (<-chan os.Signal, func()) { return sigs, func() {} }
		done := make(chan int, 1)
		go func() { done <- s.run("emulator", "--addr", "127.0.0.1:0") }()
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(s.out.String(), "http://"); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the emulator did not start: %s", s.errOut.String())
			}
		}
		sigs <- syscall.SIGTERM
		select {
		case code := <-done:
			got := s.errOut.String()
			if code != 0 || strings.Contains(got, "calls in flight") || !strings.Contains(got, "invitectl: stopping the emulator (signal again to quit at once)") {
				t.Errorf("exit %d, stderr:\n%s", code, got)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the emulator did not stop")
		}
	})
}

func TestDescribeIdentity(t *testing.T) {
	for _, tc := range []struct {
		mode, source, principal, clientID string
		want                              string
	}{
		{"adc", "", "", "", "Application Default Credentials: none found"},
		{"adc", "/home/a/adc.json", "", "", "Application Default Credentials (/home/a/adc.json)"},
		{"key", "k.json", "sa@p.iam.gserviceaccount.com", "123", "service-account key k.json (sa@p.iam.gserviceaccount.com, client ID 123), domain-wide delegation"},
		{"key", "k.json", "", "", "service-account key k.json, domain-wide delegation"},
		{"impersonation", "", "sa@p.iam.gserviceaccount.com", "", "impersonating sa@p.iam.gserviceaccount.com through IAM Credentials, as the caller of Application Default Credentials"},
	} {
		got := describeIdentity(authIdentity(tc.mode, tc.source, tc.principal, tc.clientID), false, "default")
		if got != tc.want || strings.Contains(got, "unknown") {
			t.Errorf("%s: %q, want %q", tc.mode, got, tc.want)
		}
	}
}

func authIdentity(mode, source, principal, clientID string) auth.Identity {
	return auth.Identity{Mode: mode, Source: source, Principal: principal, ClientID: clientID}
}
