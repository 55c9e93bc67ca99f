package main

import (
	"encoding/csv"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
)

// TestSingleCommandFormats is item 3: get, check, send and cancel print
// real fields in JSON and CSV, not a free-text detail.
func TestSingleCommandFormats(t *testing.T) {
	s := newTestStreams(t)
	s.emulate(t, emulator.Config{})
	jsonOf := func(args ...string) []map[string]any {
		t.Helper()
		s.out.Reset()
		code := s.run(append(args, "--format", "json")...)
		var got []map[string]any
		if err := json.Unmarshal([]byte(s.out.String()), &got); err != nil {
			t.Fatalf("%v: exit %d, not JSON: %v\n%s%s", args, code, err, s.out.String(), s.errOut.String())
		}
		return got
	}
	keys := func(m map[string]any) []string {
		var k []string
		for key := range m {
			k = append(k, key)
		}
		slices.Sort(k)
		return k
	}
	const omar = "omar.eriksen@acme-corp.example"

	got := jsonOf("send", omar)
	if len(got) != 1 || !reflect.DeepEqual(keys(got[0]), []string{"email", "mailsSentCount", "operation", "outcome", "state", "updateTime"}) ||
		got[0]["outcome"] != "sent" || got[0]["state"] != "INVITED" || got[0]["mailsSentCount"] != 1.0 ||
		!strings.HasPrefix(got[0]["operation"].(string), "operations/") {
		t.Errorf("send: %v", got)
	}
	if _, err := time.Parse(time.RFC3339, got[0]["updateTime"].(string)); err != nil {
		t.Errorf("send's updateTime: %v", err)
	}

	got = jsonOf("get", omar, "nobody@acme-corp.example")
	if len(got) != 2 || got[0]["outcome"] != "found" || got[0]["state"] != "INVITED" || got[0]["mailsSentCount"] != 1.0 ||
		got[0]["detail"] != nil || got[1]["outcome"] != "not_found" || got[1]["state"] != nil {
		t.Errorf("get: %v", got)
	}

	got = jsonOf("check", omar, "new.hire@acme-corp.example")
	if len(got) != 2 || got[0]["invitable"] != true || got[0]["outcome"] != "invitable" ||
		got[1]["invitable"] != false || got[1]["outcome"] != "not_invitable" {
		t.Errorf("check: %v", got)
	}

	jsonOf("cancel", omar)
	got = jsonOf("cancel", omar) // nothing left to cancel: refused
	want := map[string]any{"code": 400.0, "status": "FAILED_PRECONDITION"}
	if len(got) != 1 || got[0]["outcome"] != "error" {
		t.Fatalf("cancel again: %v", got)
	}
	e, _ := got[0]["error"].(map[string]any)
	if e["code"] != want["code"] || e["status"] != want["status"] || e["message"] == "" || strings.Contains(e["message"].(string), "HTTP 400") {
		t.Errorf("cancel's error: %v", e)
	}

	// CSV, formula-safe, with the same fields.
	s.out.Reset()
	if code := s.run("get", omar, "nobody@acme-corp.example", "--format", "csv"); code != 0 {
		t.Fatalf("get --format csv: exit %d", code)
	}
	rows, err := csv.NewReader(strings.NewReader(s.out.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || !reflect.DeepEqual(rows[0], csvHeader) ||
		rows[1][0] != omar || rows[1][1] != "found" || rows[1][2] != "NOT_YET_SENT" || rows[1][3] != "1" || rows[2][1] != "not_found" {
		t.Errorf("get --format csv:\n%s", s.out.String())
	}
}

// TestColour is item 6: outcomes that need attention are coloured on a
// terminal, and never with NO_COLOR or off a terminal.
func TestColour(t *testing.T) {
	red := "\x1b[31merror\x1b[0m"
	for _, tc := range []struct {
		name    string
		tty     bool
		noColor string
		want    bool
	}{
		{"terminal", true, "", true},
		{"NO_COLOR", true, "1", false},
		{"pipe", false, "", false},
	} {
		s := newTestStreams(t)
		s.emulate(t, emulator.Config{})
		s.setTTY(false, tc.tty, false)
		s.env["NO_COLOR"] = tc.noColor
		code := s.run("send", "alan.castro@acme-corp.example", "ada.berg@acme-corp.example") // managed: refused
		out := s.out.String()
		if code != exitPartial || strings.Contains(out, red) != tc.want {
			t.Errorf("%s: exit %d, coloured %v, want %v:\n%q", tc.name, code, strings.Contains(out, red), tc.want, out)
		}
		// The colour stays off the columns: the next field starts where it
		// would without it.
		line := strings.Split(strings.ReplaceAll(strings.ReplaceAll(out, ansiRed, ""), ansiReset, ""), "\n")[0]
		if !strings.HasPrefix(line, "alan.castro@acme-corp.example            error          send") {
			t.Errorf("%s: %q", tc.name, line)
		}
		if strings.Contains(out, "\x1b[") && strings.Contains(strings.Split(out, "\n")[1], "\x1b[") {
			t.Errorf("%s: a success is coloured: %q", tc.name, out)
		}
	}
}
