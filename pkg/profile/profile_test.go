package profile

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDir(t *testing.T) {
	if d, err := Dir(env(map[string]string{"INVITECTL_CONFIG_DIR": "/x/conf", "HOME": "/home/ann"})); err != nil || d != "/x/conf" {
		t.Errorf("INVITECTL_CONFIG_DIR: %q %v", d, err)
	}
	if _, err := Dir(env(nil)); err == nil || !strings.Contains(err.Error(), "INVITECTL_CONFIG_DIR") {
		t.Errorf("no folder at all: %v", err)
	}
	if runtime.GOOS != "linux" {
		t.Skip("the rest is Linux's layout")
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HOME": "/home/ann"}, "/home/ann/.config/invitectl"},
		{map[string]string{"HOME": "/home/ann", "XDG_CONFIG_HOME": "/cfg"}, "/cfg/invitectl"},
		{map[string]string{"HOME": "/home/ann", "XDG_CONFIG_HOME": "relative"}, "/home/ann/.config/invitectl"},
	} {
		if d, err := Dir(env(tc.env)); err != nil || d != tc.want {
			t.Errorf("%v: %q %v, want %q", tc.env, d, err, tc.want)
		}
	}
}

func TestLoadSave(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "invitectl")
	c, err := Load(dir)
	if err != nil || len(c.Profiles) != 0 {
		t.Fatalf("no file: %+v %v", c, err)
	}
	p := c.Profiles["acme"]
	for k, v := range map[string]string{"customer": "C03abc123", "impersonate-service-account": "sa@p.iam.gserviceaccount.com", "read-qps": "0.5"} {
		if err := p.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	c.Profiles["acme"] = p
	if err := c.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil || back.Profiles["acme"].Customer != "C03abc123" || *back.Profiles["acme"].ReadQPS != 0.5 ||
		back.Profiles["acme"].ImpersonateServiceAccount != "sa@p.iam.gserviceaccount.com" {
		t.Fatalf("read back: %+v %v", back, err)
	}
	if err := p.Set("read-qps", ""); err != nil || p.ReadQPS != nil {
		t.Errorf("unset: %v %v", err, p.ReadQPS)
	}
	for k, v := range map[string]string{"write-qps": "-1", "writeqps": "1", "colour": "x"} {
		if err := p.Set(k, v); err == nil {
			t.Errorf("Set(%s, %s) accepted", k, v)
		}
	}
	if err := ValidName("../x"); err == nil {
		t.Error("a path as a name")
	}
}

func TestPath(t *testing.T) {
	e := env(map[string]string{"HOME": "/home/ann"})
	for in, want := range map[string]string{
		"":              "",
		"~/keys/a.json": filepath.Join("/home/ann", "keys/a.json"),
		"keys/a.json":   filepath.Join("/conf", "keys/a.json"),
		"/abs/a.json":   "/abs/a.json",
	} {
		if got := Path(in, "/conf", e); got != want {
			t.Errorf("Path(%q) = %q, want %q", in, got, want)
		}
	}
}
