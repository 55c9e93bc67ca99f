package main

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/invitectl/invitectl/pkg/emulator"
)

// TestVersion is item 1: the module version, the VCS revision and the Go
// version, from the build information, by `version` and by `--version`.
func TestVersion(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/invitectl/invitectl", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"},
			{Key: "vcs.time", Value: "2026-11-20T10:00:00Z"}}}
	want := "invitectl v1.4.0\nrevision  0123456789abcdef (modified: built with uncommitted changes)\ncommitted 2026-11-20T10:00:00Z\n" +
		"go        go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if got := versionText(bi); got != want {
		t.Errorf("versionText:\n%s\nwant\n%s", got, want)
	}
	bi.Settings = nil
	if got := versionText(bi); !strings.Contains(got, "revision  unknown (no VCS stamp: built outside a git checkout, or with -buildvcs=false)\n") || strings.Contains(got, "committed") {
		t.Errorf("without VCS stamps:\n%s", got)
	}
	if got := versionText(nil); !strings.HasPrefix(got, "invitectl unknown\n") || !strings.Contains(got, runtime.Version()) {
		t.Errorf("without build information:\n%s", got)
	}

	// Both spellings print the binary's own text, and need no set-up: not
	// even a home folder.
	for _, args := range [][]string{{"version"}, {"--version"}} {
		s := newTestStreams(t)
		s.env = map[string]string{}
		if code := s.run(args...); code != 0 || s.out.String() != versionText(readBuildInfo()) || s.errOut.String() != "" {
			t.Errorf("%v: exit %d\nstdout %q\nstderr %q", args, code, s.out.String(), s.errOut.String())
		}
	}
}

// TestQuiet is item 2: with --quiet nothing but errors reaches stderr;
// data on stdout stays.
func TestQuiet(t *testing.T) {
	s := newTestStreams(t)
	plan := filepath.Join(t.TempDir(), "plan.jsonl")
	code := s.run("--sandbox", "--sandbox-latency", "0", "-q", "run", "-i", "../../samples/campaign.csv", "-o", plan, "--yes")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, s.errOut.String())
	}
	if s.errOut.String() != "" {
		t.Errorf("--quiet printed on stderr:\n%s", s.errOut.String())
	}
	if !strings.Contains(s.out.String(), "done") {
		t.Errorf("--quiet lost the data on stdout:\n%s", s.out.String())
	}

	// list's count is a summary: gone; its table stays.
	s = newTestStreams(t)
	s.emulate(t, emulator.Config{})
	if code := s.run("list", "--quiet", "--state", "invited"); code != 0 || s.errOut.String() != "" || !strings.Contains(s.out.String(), "INVITED") {
		t.Errorf("list -q: exit %d\nstdout %s\nstderr %q", code, s.out.String(), s.errOut.String())
	}
	// Errors still are printed.
	s = newTestStreams(t)
	s.emulate(t, emulator.Config{})
	if code := s.run("-q", "get", "not an address"); code != exitUsage || !strings.Contains(s.errOut.String(), "invitectl: argument 1") {
		t.Errorf("get -q with a bad address: exit %d, stderr %q", code, s.errOut.String())
	}
	s = newTestStreams(t)
	if code := s.run("-q", "-v", "list"); code != exitUsage || !strings.Contains(s.errOut.String(), "--quiet and --verbose exclude each other") {
		t.Errorf("-q -v: exit %d, stderr %q", code, s.errOut.String())
	}
}

// TestCompletion is item 4: shell completion completes flag values.
func TestCompletion(t *testing.T) {
	s := newTestStreams(t)
	cfg := `{"profiles": {"acme": {"customer": "C03abc123"}, "globex": {"customer": "C04xyz789"}}}`
	if err := os.WriteFile(s.env["INVITECTL_CONFIG_DIR"]+"/config.json", []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	complete := func(args ...string) []string {
		t.Helper()
		s.out.Reset()
		if code := s.run(append([]string{"__completeNoDesc"}, args...)...); code != 0 {
			t.Fatalf("%v: exit %d, %s", args, code, s.errOut.String())
		}
		var vals []string
		for _, l := range strings.Split(strings.TrimSpace(s.out.String()), "\n") {
			if !strings.HasPrefix(l, ":") {
				vals = append(vals, l)
			}
		}
		return vals
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"list", "--state", ""}, []string{"not_yet_sent", "invited", "accepted", "declined"}},
		{[]string{"list", "--state", "invited,"}, []string{"invited,not_yet_sent", "invited,accepted", "invited,declined"}},
		{[]string{"list", "--format", ""}, []string{"table", "json", "csv"}},
		{[]string{"get", "--format", ""}, []string{"table", "json", "csv"}},
		{[]string{"report", "x", "--format", ""}, []string{"table", "csv", "json"}},
		{[]string{"plan", "--action", ""}, []string{"invite", "cancel"}},
		{[]string{"list", "--order-by", "upd"}, []string{"update_time", "update_time:desc"}},
		{[]string{"--api-version", ""}, []string{"v1", "v1beta1"}},
		{[]string{"get", "--log-format", ""}, []string{"text", "json"}},
		{[]string{"list", "--profile", ""}, []string{"acme", "globex"}},
		{[]string{"plan", "--encoding", "win"}, []string{"windows-1252"}},
		{[]string{"emulator", "--quota-window", ""}, []string{"rolling", "fixed"}},
	}
	for _, tc := range cases {
		if got := complete(tc.args...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: %q, want %q", tc.args, got, tc.want)
		}
	}
}
