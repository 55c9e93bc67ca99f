package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// settle parses args as invitectl would and runs the global set-up, without
// running the command: it returns the app with its settled settings and
// the command.
func settle(t *testing.T, s *testStreams, args ...string) (*app, *cobra.Command, error) {
	t.Helper()
	a := &app{io: s.ios, stderr: s.errOut, warned: map[string]bool{}}
	root := newRootCmd(a)
	cmd, rest, err := root.Find(args)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Fatal(err)
	}
	return a, cmd, a.setup(cmd)
}

const testConfig = `{
  "profiles": {
    "default": {"customer": "C0default1"},
    "acme": {"customer": "C03abc123", "credentials": "keys/acme.json", "subject": "admin@acme.example",
             "endpoint": "http://127.0.0.1:8085", "apiVersion": "v1beta1", "stateDir": "~/acme-state",
             "readQps": 3, "writeQps": 2},
    "globex": {"customer": "C04xyz789", "impersonateServiceAccount": "invitectl@globex.iam.gserviceaccount.com", "subject": "it@globex.example"}
  }
}`

// TestProfilePrecedence is item 7: a flag wins over its environment
// variable, which wins over the profile, which wins over the default.
func TestProfilePrecedence(t *testing.T) {
	s := newTestStreams(t)
	home := t.TempDir()
	s.env["HOME"] = home
	dir := s.env["INVITECTL_CONFIG_DIR"]
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	delete(s.env, "INVITECTL_STATE_DIR")

	type want struct {
		customer, endpoint, credentials, subject, impersonate, apiVersion, stateDir string
	}
	acme := want{"C03abc123", "http://127.0.0.1:8085", filepath.Join(dir, "keys/acme.json"), "admin@acme.example", "", "v1beta1", filepath.Join(home, "acme-state")}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want want
	}{
		{"the default profile", nil, []string{"list"},
			want{"C0default1", "", "", "", "", "v1", filepath.Join(home, ".local", "state", "invitectl")}},
		{"--profile", nil, []string{"--profile", "acme", "list"}, acme},
		{"INVITECTL_PROFILE", map[string]string{"INVITECTL_PROFILE": "acme"}, []string{"list"}, acme},
		{"--profile over INVITECTL_PROFILE", map[string]string{"INVITECTL_PROFILE": "globex"}, []string{"--profile", "acme", "list"}, acme},
		{"environment over profile", map[string]string{"INVITECTL_CUSTOMER": "C0env0001", "INVITECTL_ENDPOINT": "http://env", "INVITECTL_SUBJECT": "env@acme.example",
			"INVITECTL_STATE_DIR": "/env/state"}, []string{"--profile", "acme", "list"},
			want{"C0env0001", "http://env", acme.credentials, "env@acme.example", "", "v1beta1", "/env/state"}},
		{"flags over environment", map[string]string{"INVITECTL_CUSTOMER": "C0env0001"},
			[]string{"--profile", "acme", "--customer", "C0flag001", "--api-version", "v1", "--state-dir", "/flag/state", "--endpoint", "", "list"},
			want{"C0flag001", "", acme.credentials, "admin@acme.example", "", "v1", "/flag/state"}},
		{"other credentials replace the profile's", map[string]string{"INVITECTL_IMPERSONATE_SERVICE_ACCOUNT": "sa@p.iam.gserviceaccount.com"},
			[]string{"--profile", "acme", "list"},
			want{"C03abc123", acme.endpoint, "", "admin@acme.example", "sa@p.iam.gserviceaccount.com", "v1beta1", acme.stateDir}},
		{"a key flag replaces an impersonation", nil, []string{"--profile", "globex", "--credentials", "k.json", "list"},
			want{"C04xyz789", "", "k.json", "it@globex.example", "", "v1", filepath.Join(home, ".local", "state", "invitectl")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				s.env[k] = v
				defer delete(s.env, k)
			}
			a, _, err := settle(t, s, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			got := want{a.opts.customer, a.opts.endpoint, a.opts.credentials, a.opts.subject, a.opts.impersonate, a.opts.apiVersion, a.stateDir}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}

	// The profile's rates are the defaults of the commands that take them.
	for _, tc := range []struct {
		args            []string
		flag, wantValue string
	}{
		{[]string{"--profile", "acme", "apply", "p.jsonl"}, "write-qps", "2"},
		{[]string{"--profile", "acme", "apply", "p.jsonl", "--write-qps", "7"}, "write-qps", "7"},
		{[]string{"--profile", "acme", "plan", "x.csv"}, "read-qps", "3"},
		{[]string{"--profile", "globex", "plan", "x.csv"}, "read-qps", "25"},
	} {
		_, cmd, err := settle(t, s, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		if got := cmd.Flags().Lookup(tc.flag).Value.String(); got != tc.wantValue {
			t.Errorf("%v: --%s %s, want %s", tc.args, tc.flag, got, tc.wantValue)
		}
	}

	// The sandbox is a world of its own: no profile reaches it.
	a, _, err := settle(t, s, "--profile", "acme", "--sandbox", "list")
	if err != nil || a.opts.customer != "C03abc123" || a.opts.credentials != "" || a.opts.endpoint != "" {
		t.Errorf("sandbox: %v %+v", err, a.opts)
	}

	// A profile that does not exist, and a configuration with a typo.
	if _, _, err := settle(t, s, "--profile", "initech", "list"); err == nil ||
		!strings.Contains(err.Error(), `no profile "initech" in config.json (profiles: acme, default, globex)`) {
		t.Errorf("unknown profile: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"profiles": {"acme": {"custommer": "C03abc123"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := settle(t, s, "list"); err == nil || !strings.Contains(err.Error(), `unknown field "custommer"`) {
		t.Errorf("a typo: %v", err)
	}
}

// TestProfileCommands: profile set creates the file 0600; list and show
// read it.
func TestProfileCommands(t *testing.T) {
	s := newTestStreams(t)
	for _, args := range [][]string{
		{"profile", "set", "acme", "customer", "C03abc123"},
		{"profile", "set", "acme", "write-qps", "2.5"},
		{"profile", "set", "globex", "subject", "it@globex.example"},
		{"profile", "set", "globex", "subject"}, // unset
	} {
		if code := s.run(args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, s.errOut.String())
		}
	}
	path := filepath.Join(s.env["INVITECTL_CONFIG_DIR"], "config.json")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config: %v %v", fi, err)
	}
	s.out.Reset()
	if code := s.run("--profile", "acme", "profile", "list"); code != 0 || s.out.String() != "* acme\n  globex\n" {
		t.Errorf("profile list: exit %d %q", code, s.out.String())
	}
	s.out.Reset()
	if code := s.run("profile", "show", "acme"); code != 0 || !strings.Contains(s.out.String(), `"customer": "C03abc123"`) ||
		!strings.Contains(s.out.String(), `"writeQps": 2.5`) || !strings.Contains(s.out.String(), `"signedIn": false`) {
		t.Errorf("profile show: exit %d\n%s", code, s.out.String())
	}
	s.errOut.Reset()
	if code := s.run("profile", "set", "acme", "colour", "blue"); code != exitUsage || !strings.Contains(s.errOut.String(), `unknown setting "colour"`) {
		t.Errorf("a bad key: exit %d %s", code, s.errOut.String())
	}
	s.errOut.Reset()
	if code := s.run("profile", "set", "../etc", "customer", "C0"); code != exitUsage || !strings.Contains(s.errOut.String(), "profile name") {
		t.Errorf("a bad name: exit %d %s", code, s.errOut.String())
	}
}
