package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/safetext"
)

// hostile is an API that answers with what an attacker controls: addresses
// that are formulas or terminal commands, and error messages that would
// clear the screen, set the title, or forge a line of output.
const hostileMessage = "\x1b]0;owned\x07\x1b[2J\rinvitectl: all sent \u009b31m\u202e"

func hostileAPI(t *testing.T) *httptest.Server {
	t.Helper()
	names := []string{"=cmd|' /C calc'!A0@x.org", "@sum(1+1)@x.org", "-2+3@x.org", "+1@x.org", "\ttab@x.org",
		"\x1b]0;owned\x07@x.org", "\u009b2J@x.org", "'quote@x.org", "plain@x.org"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/userinvitations") {
			var invs []map[string]string
			for _, n := range names {
				invs = append(invs, map[string]string{"name": "customers/C0evil01/userinvitations/" + n,
					"state": "NOT_YET_SENT", "mailsSentCount": "0", "updateTime": "2026-01-01T00:00:00Z"})
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"userInvitations": invs})
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
			"code": 400, "status": "FAILED_PRECONDITION", "message": hostileMessage}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// runCLI runs invitectl in-process and returns its exit code, stdout and
// stderr.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, ioStreams{in: strings.NewReader(""), out: &out, errOut: &errOut,
		getenv: func(k string) string { return env[k] }})
	return code, out.String(), errOut.String()
}

// checkTerminalSafe fails when text holds a control character other than
// the newlines between lines, or a bidirectional override.
func checkTerminalSafe(t *testing.T, what, text string) {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if safetext.Terminal(line) != line {
			t.Errorf("%s prints a raw control or format character: %q", what, line)
		}
		if strings.HasPrefix(line, "invitectl: all sent") {
			t.Errorf("%s lets a message forge a line of output: %q", what, line)
		}
	}
}

// TestOutputsAreSafe is items 13 and 14: what the API returns reaches
// neither a CSV unneutralised nor a terminal raw.
func TestOutputsAreSafe(t *testing.T) {
	srv := hostileAPI(t)
	env := map[string]string{"INVITECTL_ENDPOINT": srv.URL, "INVITECTL_CUSTOMER": "C0evil01"}

	// Item 13: every cell of list's CSV that a spreadsheet would run is
	// defused, and reads back as it was.
	code, out, _ := runCLI(t, env, "list", "--format", "csv")
	if code != 0 {
		t.Fatalf("list --format csv exited %d", code)
	}
	want := "email,state,mailsSentCount,updateTime\n" +
		"'=cmd|' /c calc'!a0@x.org,NOT_YET_SENT,0,2026-01-01T00:00:00Z\n" +
		"'@sum(1+1)@x.org,NOT_YET_SENT,0,2026-01-01T00:00:00Z\n" +
		"'-2+3@x.org,NOT_YET_SENT,0,2026-01-01T00:00:00Z\n" +
		"'+1@x.org,NOT_YET_SENT,0,2026-01-01T00:00:00Z\n" +
		"'\ttab@x.org,NOT_YET_SENT,0,2026-01-01T00:00:00Z\n" +
		"\x1b]0;owned\x07@x.org,NOT_YET_SENT,0,2026-01-01T00:00:00Z\n" +
		"\u009b2j@x.org,NOT_YET_SENT,0,2026-01-01T00:00:00Z\n" +
		"''quote@x.org,NOT_YET_SENT,0,2026-01-01T00:00:00Z\n" +
		"plain@x.org,NOT_YET_SENT,0,2026-01-01T00:00:00Z\n"
	if out != want {
		t.Errorf("list --format csv wrote\n%q\nwant\n%q", out, want)
	}

	// Item 14: the list table, and the API's messages that get, send and
	// cancel print.
	code, out, errOut := runCLI(t, env, "list")
	if code != 0 || !strings.Contains(out, `\x1b]0;owned\a@x.org`) || !strings.Contains(out, `\u009b2j@x.org`) {
		t.Errorf("list exited %d, printed\n%s", code, out)
	}
	checkTerminalSafe(t, "list", out+errOut)
	for _, cmd := range []string{"get", "send", "cancel", "check"} {
		code, out, errOut := runCLI(t, env, cmd, "ann@example.org")
		if code != exitPartial || !strings.Contains(out, `\x1b]0;owned\a\x1b[2J\rinvitectl: all sent \u009b31m\u202e`) {
			t.Errorf("%s exited %d, printed\n%s%s", cmd, code, out, errOut)
		}
		checkTerminalSafe(t, cmd, out+errOut)
		code, out, errOut = runCLI(t, env, cmd, "--format", "json", "ann@example.org")
		if code != exitPartial {
			t.Errorf("%s --format json exited %d, want %d", cmd, code, exitPartial)
		}
		checkTerminalSafe(t, cmd+" --format json", out+errOut)
	}
}

// TestPlanTableIsSafe is item 14 for the input: a crafted row of the
// campaign is escaped in the plan's table and in the error that names it.
func TestPlanTableIsSafe(t *testing.T) {
	srv := hostileAPI(t)
	env := map[string]string{"INVITECTL_ENDPOINT": srv.URL, "INVITECTL_CUSTOMER": "C0evil01"}
	dir := t.TempDir()
	campaign := filepath.Join(dir, "campaign.csv")
	rows := "email\nplain@x.org\n\"\x1b]0;owned\x07\x1b[2J\rinvitectl: all sent\"\n\u202eevil@x.org\n"
	if err := os.WriteFile(campaign, []byte(rows), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, env, "plan", campaign, "-o", filepath.Join(dir, "plan.jsonl"), "--trust-list", "--no-progress")
	if code != 0 || !strings.Contains(out, `\x1b]0;owned\a\x1b[2J\rinvitectl: all sent`) {
		t.Fatalf("plan exited %d, printed\n%s%s", code, out, errOut)
	}
	checkTerminalSafe(t, "plan", out+errOut)

	bad := filepath.Join(dir, "bad\x1b[2J.csv")
	if err := os.WriteFile(bad, []byte("email\n\"open\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, env, "plan", bad, "-o", filepath.Join(dir, "x.jsonl"))
	if code != exitUsage || !strings.Contains(errOut, `bad\x1b[2J.csv`) {
		t.Errorf("plan of a bad file exited %d, printed\n%s%s", code, out, errOut)
	}
	checkTerminalSafe(t, "plan's error", out+errOut)
}

// TestErrorsAreScrubbed is item 15: a token endpoint that echoes the signed
// assertion in its error does not get it printed.
func TestErrorsAreScrubbed(t *testing.T) {
	var assertion string
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		assertion = form.Get("assertion")
		if len(assertion) < 40 {
			http.Error(w, "no assertion", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		// Echoed twice: as the form was sent, and cut short in a JSON field.
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant",
			"error_description": "bad request " + string(body) + ` {"assertion": "` + assertion[:40] + `"}`})
	}))
	defer tokens.Close()
	key := filepath.Join(t.TempDir(), "key.json")
	if err := writeKey(key, "robot@test-project.iam.gserviceaccount.com", 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"INVITECTL_ENDPOINT": tokens.URL, "INVITECTL_CUSTOMER": "C0evil01",
		"INVITECTL_CREDENTIALS": key, "INVITECTL_SUBJECT": "admin@x.org", "INVITECTL_AUTH_ENDPOINT": tokens.URL}
	for _, args := range [][]string{{"get", "ann@example.org"}, {"list"}} {
		code, out, errOut := runCLI(t, env, args...)
		if assertion == "" {
			t.Fatal("no assertion reached the token endpoint: the test proves nothing")
		}
		if code != exitAuth || !strings.Contains(errOut, "invalid_grant") {
			t.Errorf("%s exited %d, printed\n%s%s", args[0], code, out, errOut)
		}
		sig := assertion[strings.LastIndexByte(assertion, '.')+1:]
		for _, secret := range []string{assertion, assertion[:40], sig, "eyJ"} {
			if strings.Contains(out+errOut, secret) {
				t.Errorf("%s printed the signed assertion (%q):\n%s%s", args[0], secret, out, errOut)
			}
		}
	}
}

// apply's warnings name the plan as it was given, escaped: a file name is
// text a terminal must not act on either.
func TestApplyWarningsAreSafe(t *testing.T) {
	s := newTestStreams(t)
	s.emulate(t, emulator.Config{})
	plan := planned(t, s)
	b, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	// Made three days ago, under a name with a terminal command in it.
	header, rest, _ := strings.Cut(string(b), "\n")
	var h map[string]any
	if err := json.Unmarshal([]byte(header), &h); err != nil {
		t.Fatal(err)
	}
	h["createdAt"] = time.Now().Add(-72 * time.Hour).UTC().Format(time.RFC3339)
	hb, _ := json.Marshal(h)
	crafted := filepath.Join(filepath.Dir(plan), "\x1b]0;owned\x07plan.jsonl")
	if err := os.WriteFile(crafted, append(append(hb, '\n'), rest...), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := s.run("apply", crafted, "--yes", "--no-progress"); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, s.errOut.String())
	}
	if !strings.Contains(s.errOut.String(), `warning: plan `+filepath.Dir(plan)+`/\x1b]0;owned\aplan.jsonl was made`) {
		t.Errorf("no escaped warning about the plan's age:\n%s", s.errOut.String())
	}
	checkTerminalSafe(t, "apply", s.out.String()+s.errOut.String())
}
