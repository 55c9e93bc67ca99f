package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/scope"
)

func TestReadClientSecret(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := ReadClientSecret(write("desktop.json", `{"installed":{"client_id":"1-x.apps.googleusercontent.com","client_secret":"s"}}`))
	if err != nil || c.ClientID != "1-x.apps.googleusercontent.com" || c.AuthURI != googleAuthURI || c.TokenURI != googleTokenURI {
		t.Errorf("a Desktop client without endpoints: %+v %v", c, err)
	}
	for name, tc := range map[string]struct{ body, want string }{
		"web.json":     {`{"web":{"client_id":"a","client_secret":"b"}}`, "Web application"},
		"sa.json":      {`{"type":"service_account","client_email":"x"}`, "service-account key, not an OAuth client"},
		"garbage.json": {`not json`, "is not JSON"},
		"empty.json":   {`{"installed":{"client_id":"a"}}`, "no OAuth client of the Desktop kind"},
	} {
		_, err := ReadClientSecret(write(name, tc.body))
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(e.Fix, "Desktop app") {
			t.Errorf("%s: %v, want %q with the fix", name, err, tc.want)
		}
	}
	if _, err := ReadClientSecret(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "cannot read") {
		t.Errorf("missing file: %v", err)
	}
}

func TestRewrite(t *testing.T) {
	for _, tc := range []struct{ raw, endpoint, want string }{
		{"https://accounts.google.com/o/oauth2/auth", "http://127.0.0.1:8085", "http://127.0.0.1:8085/o/oauth2/auth"},
		{"https://oauth2.googleapis.com/token", "http://127.0.0.1:8085/base/", "http://127.0.0.1:8085/base/token"},
		{"https://oauth2.googleapis.com/token", "", "https://oauth2.googleapis.com/token"},
		{"https://login.example.com/token", "http://127.0.0.1:8085", "https://login.example.com/token"},
	} {
		if got := rewrite(tc.raw, tc.endpoint); got != tc.want {
			t.Errorf("rewrite(%s, %s) = %s, want %s", tc.raw, tc.endpoint, got, tc.want)
		}
	}
}

// TestStoredLogin: a login is stored 0600 and read back; it is the
// credentials when none is named, but an emulator (an --endpoint) never
// gets, nor makes invitectl refresh, a login of Google's.
func TestStoredLogin(t *testing.T) {
	dir := t.TempDir()
	google := filepath.Join(dir, "logins", "default.json")
	l := StoredLogin{Type: "authorized_user", ClientID: "c", ClientSecret: "s", RefreshToken: "1//r", TokenURI: googleTokenURI,
		Scopes: []string{scope.Invitations}, Created: time.Now().UTC().Truncate(time.Second)}
	if err := SaveLogin(google, l); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(google); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", fi, err)
	}
	got, ok, err := LoadLogin(google)
	if err != nil || !ok || got.RefreshToken != l.RefreshToken || !got.Created.Equal(l.Created) {
		t.Fatalf("read back: %+v %v %v", got, ok, err)
	}
	if _, ok, err := LoadLogin(filepath.Join(dir, "none.json")); ok || err != nil {
		t.Errorf("no login: %v %v", ok, err)
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"type":"service_account"}`), 0o600)
	var setup *Error
	if _, _, err := TokenSource(context.Background(), Options{Login: bad}); !errors.As(err, &setup) || !strings.Contains(setup.Hint(), "auth login") {
		t.Errorf("a broken login: %v", err)
	}

	noenv := func(string) string { return "" }
	_, id, err := TokenSource(context.Background(), Options{Login: google, Getenv: noenv, Scopes: []string{scope.InvitationsReadOnly}})
	if err != nil || id.Mode != "login" || id.ClientID != "c" || id.Source != google {
		t.Errorf("the login: %+v %v", id, err)
	}
	_, id, err = TokenSource(context.Background(), Options{Login: google, Getenv: noenv, Endpoint: "http://127.0.0.1:1"})
	if err != nil || id.Mode != "none" {
		t.Errorf("Google's login with an emulator: %+v %v", id, err)
	}
	emu := filepath.Join(dir, "logins", "emu.json")
	l.TokenURI = "http://127.0.0.1:1/token"
	if err := SaveLogin(emu, l); err != nil {
		t.Fatal(err)
	}
	_, id, err = TokenSource(context.Background(), Options{Login: emu, Getenv: noenv, Endpoint: "http://127.0.0.1:1"})
	if err != nil || id.Mode != "login" {
		t.Errorf("an emulator's login with the emulator: %+v %v", id, err)
	}
	key, _ := writeKey(t, dir, "sa@p.iam.gserviceaccount.com", googleTokenURI, 0o600)
	_, id, err = TokenSource(context.Background(), Options{Login: google, Getenv: noenv, Credentials: key, Subject: "a@example.com"})
	if err != nil || id.Mode != "key" || id.ClientID != "1234567890" {
		t.Errorf("a named key wins over the login: %+v %v", id, err)
	}
	if err := os.Chmod(google, 0o644); err != nil {
		t.Fatal(err)
	}
	var warned []string
	_, _, _ = TokenSource(context.Background(), Options{Login: google, Getenv: noenv, Warn: func(s string) { warned = append(warned, s) }})
	if len(warned) != 1 || !strings.Contains(warned[0], "readable by group or others") {
		t.Errorf("warnings %v", warned)
	}
}
