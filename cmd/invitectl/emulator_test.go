package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/scope"
)

// syncBuffer is a bytes.Buffer that a running command and a test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

func testIO(out, errOut *syncBuffer, sigs chan os.Signal) ioStreams {
	return ioStreams{in: strings.NewReader(""), out: out, errOut: errOut, getenv: func(string) string { return "" },
		signals: func() (<-chan os.Signal, func()) { return sigs, func() {} }}
}

// TestEmulatorCommand serves the emulator with the quota, lag and OAuth
// flags, and checks what a client sees.
func TestEmulatorCommand(t *testing.T) {
	var out, errOut syncBuffer
	sigs := make(chan os.Signal, 1)
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"emulator", "--addr", "127.0.0.1:0", "--requests-per-minute", "2",
			"--send-visibility-lag", "1m", "--oauth-client", "cid.apps.googleusercontent.com:s3cret:" + scope.Invitations,
			"--login-user", "it-admin@acme-corp.example"}, testIO(&out, &errOut, sigs))
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			base = line
		} else if time.Now().After(deadline) {
			t.Fatalf("no URL on stdout; stderr %q", errOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(errOut.String(), "quota 2/min\n") || !strings.Contains(errOut.String(), "/o/oauth2/auth") {
		t.Errorf("banner %q", errOut.String())
	}
	check := base + "/v1/customers/C03abc123/userinvitations/ada.berg@acme-corp.example:isInvitableUser"
	var codes []int
	var body map[string]any
	for range 3 {
		resp, err := http.Get(check)
		if err != nil {
			t.Fatal(err)
		}
		body = nil
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Errorf("three checks at 2 per minute: %v", codes)
	}
	if !strings.Contains(mustJSON(body), `"quota_limit":"RequestsPerMinutePerUser"`) {
		t.Errorf("429 body %s", mustJSON(body))
	}
	// The authorization endpoint redirects to the loopback with a code.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {"cid.apps.googleusercontent.com"}, "redirect_uri": {"http://127.0.0.1:9/cb"},
		"response_type": {"code"}, "scope": {scope.Invitations}, "state": {"x"}}
	resp, err := noFollow.Get(base + "/o/oauth2/auth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "x" {
		t.Errorf("authorization: HTTP %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	sigs <- os.Interrupt
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after an interrupt; stderr %q", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the emulator did not stop")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestEmulatorAndSandboxFlagErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"emulator", "--quota-window", "sliding"}, `--quota-window "sliding"`},
		{[]string{"emulator", "--requests-per-day", "-1"}, "must not be negative"},
		{[]string{"emulator", "--send-visibility-lag", "-1s"}, "--send-visibility-lag"},
		{[]string{"emulator", "--oauth-client", "only-an-id"}, `--oauth-client "only-an-id"`},
		{[]string{"--sandbox", "--sandbox-quota", "60/hour", "list"}, `invalid argument "60/hour" for "--sandbox-quota"`},
		{[]string{"--sandbox", "--sandbox-quota", "reads=5/day", "list"}, "--sandbox-quota"},
	}
	for _, tc := range cases {
		var out, errOut syncBuffer
		code := run(tc.args, testIO(&out, &errOut, nil))
		if code != exitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", tc.args, code, errOut.String(), exitUsage, tc.want)
		}
	}
}

// TestSandboxQuota: --sandbox-quota reaches the sandbox's emulator.
func TestSandboxQuota(t *testing.T) {
	var out, errOut syncBuffer
	code := run([]string{"--sandbox", "--sandbox-latency", "0", "--sandbox-quota", "100/min,writes=3/min", "list", "--state", "invited"}, testIO(&out, &errOut, nil))
	if code != 0 || !strings.Contains(errOut.String(), "quota 100/min,writes=3/min") || !strings.Contains(out.String(), "INVITED") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out.String(), errOut.String())
	}
}
