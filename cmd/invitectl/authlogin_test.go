package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/scope"
)

const (
	loginClient = "123-desktop.apps.googleusercontent.com"
	loginSecret = "GOCSPX-test-not-real"
	sharedID    = "shared.apps.googleusercontent.com"
	admin       = "it-admin@acme-corp.example"
)

// loginEnv is an emulator that serves the installed-app flow, with
// invitectl's streams pointed at it and a browser that follows what it is
// told to open.
type loginEnv struct {
	s      *testStreams
	srv    *emulator.Server
	opened []string // the addresses the browser was sent to
	pages  []string // what it showed
}

func newLoginEnv(t *testing.T, loginUser string) *loginEnv {
	t.Helper()
	e := &loginEnv{s: newTestStreams(t)}
	e.srv = e.s.emulate(t, emulator.Config{Auth: emulator.AuthConfig{Require: true, LoginUser: loginUser,
		Clients: map[string]emulator.OAuthClient{
			loginClient: {Secret: loginSecret},
			// Like Google's shared clients: no cloud-identity scope.
			sharedID: {Secret: "x", Scopes: []string{scope.CloudPlatform, "openid", "email"}},
		}}})
	e.s.env["INVITECTL_AUTH_ENDPOINT"] = e.s.env["INVITECTL_ENDPOINT"]
	e.s.ios.browse = func(u string) error {
		e.opened = append(e.opened, u)
		resp, err := http.Get(u) // follows the redirect to invitectl's loopback
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		e.pages = append(e.pages, string(page))
		return nil
	}
	return e
}

// clientFile writes a client file as the Cloud console downloads it.
func (e *loginEnv) clientFile(t *testing.T, kind, id, secret string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{kind: map[string]any{"client_id": id, "client_secret": secret, "project_id": "acme-it",
		"auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token",
		"redirect_uris": []string{"http://localhost"}}})
	path := filepath.Join(t.TempDir(), "client_secret.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (e *loginEnv) run(args ...string) (int, string, string) {
	e.s.out.Reset()
	e.s.errOut.Reset()
	code := e.s.run(args...)
	return code, e.s.out.String(), e.s.errOut.String()
}

// TestAuthLogin is item 8 end to end: auth login runs the installed-app
// flow (loopback, PKCE S256) against the emulator, stores the refresh token
// 0600 per profile, every command then acts as the admin, and auth logout
// removes it.
func TestAuthLogin(t *testing.T) {
	e := newLoginEnv(t, admin)
	client := e.clientFile(t, "installed", loginClient, loginSecret)

	code, out, errOut := e.run("auth", "login", "--client-secret", client)
	if code != 0 {
		t.Fatalf("auth login: exit %d\n%s%s", code, out, errOut)
	}
	if len(e.opened) != 1 {
		t.Fatalf("the browser was opened %d times", len(e.opened))
	}
	u, _ := url.Parse(e.opened[0])
	q := u.Query()
	redirect, _ := url.Parse(q.Get("redirect_uri"))
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" ||
		redirect.Hostname() != "127.0.0.1" || redirect.Port() == "" || !strings.Contains(q.Get("scope"), "cloud-identity.userinvitations") {
		t.Errorf("authorization request %s", e.opened[0])
	}
	if !strings.Contains(e.pages[0], "Signed in") {
		t.Errorf("the browser showed %q", e.pages[0])
	}
	if st := e.srv.State().Auth; st.PKCE["S256"] != 1 {
		t.Errorf("codes by PKCE method: %v", st.PKCE)
	}
	path := filepath.Join(e.s.env["INVITECTL_CONFIG_DIR"], "logins", "default.json")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stored login: %v %v", fi, err)
	}
	stored, _ := os.ReadFile(path)
	var login struct {
		RefreshToken string `json:"refresh_token"`
	}
	_ = json.Unmarshal(stored, &login)
	if login.RefreshToken == "" {
		t.Fatalf("no refresh token stored: %s", stored)
	}
	if strings.Contains(out+errOut, login.RefreshToken) || strings.Contains(out+errOut, loginSecret) {
		t.Errorf("auth login printed a secret:\n%s%s", out, errOut)
	}

	// Every command now acts as the admin who signed in.
	code, out, errOut = e.run("list", "--state", "invited")
	if code != 0 || !strings.Contains(out, "INVITED") {
		t.Fatalf("list with the stored login: exit %d\n%s%s", code, out, errOut)
	}
	if n := e.srv.State().Auth.Actors[admin]; n == 0 {
		t.Errorf("no call acted as %s: %v", admin, e.srv.State().Auth.Actors)
	}
	code, out, _ = e.run("auth", "check")
	if code != 0 || !strings.Contains(out, "credentials  your own login (invitectl auth login, profile default, OAuth client "+loginClient+")") {
		t.Errorf("auth check: exit %d\n%s", code, out)
	}

	// The login is the profile's: another profile has none.
	if code, _, errOut = e.run("--profile", "globex", "list"); code != exitUsage || !strings.Contains(errOut, `no profile "globex"`) {
		t.Errorf("--profile globex list: exit %d, %s", code, errOut)
	}
	if code, _, errOut = e.run("--profile", "globex", "auth", "login", "--client-secret", client); code != 0 {
		t.Fatalf("--profile globex auth login: exit %d, %s", code, errOut)
	}
	// The check it suggests is of that profile's login.
	if !strings.Contains(errOut, "Check it with: invitectl auth check --profile globex\n") {
		t.Errorf("--profile globex auth login: %s", errOut)
	}
	if _, err := os.Stat(filepath.Join(e.s.env["INVITECTL_CONFIG_DIR"], "logins", "globex.json")); err != nil {
		t.Errorf("globex's login: %v", err)
	}
	if code, _, errOut = e.run("--profile", "globex", "list"); code != 0 {
		t.Errorf("--profile globex list after its login: exit %d, %s", code, errOut)
	}

	// Logged out: no credentials, and the 401 says so.
	if code, _, errOut = e.run("auth", "logout"); code != 0 || !strings.Contains(errOut, "Removed the login of profile default") {
		t.Errorf("auth logout: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the login is still there: %v", err)
	}
	if code, _, errOut = e.run("list"); code != exitAuth || !strings.Contains(errOut, "No credentials were used") {
		t.Errorf("list after logout: exit %d, %s", code, errOut)
	}
	if code, _, errOut = e.run("auth", "logout"); code != 0 || !strings.Contains(errOut, "No stored login for profile default") {
		t.Errorf("a second logout: exit %d, %s", code, errOut)
	}
}

// TestAuthLoginFailures: what an administrator meets, and what they are
// told.
func TestAuthLoginFailures(t *testing.T) {
	t.Run("invalid_scope: the browser shows an error and never comes back", func(t *testing.T) {
		e := newLoginEnv(t, admin)
		code, _, errOut := e.run("auth", "login", "--client-secret", e.clientFile(t, "installed", sharedID, "x"), "--timeout", "300ms")
		if len(e.pages) != 1 || !strings.Contains(e.pages[0], "Error 400: invalid_scope") {
			t.Errorf("the browser showed %q", e.pages)
		}
		if code != exitAuth || !strings.Contains(errOut, "no answer from the browser within 300ms") ||
			!strings.Contains(errOut, "GAM-team/GAM issues 1351 and 1358") || !strings.Contains(errOut, "Desktop app") {
			t.Errorf("exit %d\n%s", code, errOut)
		}
	})
	t.Run("declined", func(t *testing.T) {
		e := newLoginEnv(t, "")
		code, _, errOut := e.run("auth", "login", "--client-secret", e.clientFile(t, "installed", loginClient, loginSecret))
		// The default --timeout is said as the flag is written, not 5m0s.
		if code != exitAuth || !strings.Contains(errOut, "declined (access_denied)") || !strings.Contains(errOut, "Waiting up to 5m for the browser") {
			t.Errorf("exit %d\n%s", code, errOut)
		}
	})
	t.Run("a web client", func(t *testing.T) {
		e := newLoginEnv(t, admin)
		code, _, errOut := e.run("auth", "login", "--client-secret", e.clientFile(t, "web", loginClient, loginSecret))
		if code != exitAuth || !strings.Contains(errOut, "Web application") || len(e.opened) != 0 {
			t.Errorf("exit %d\n%s", code, errOut)
		}
	})
	t.Run("a wrong secret", func(t *testing.T) {
		e := newLoginEnv(t, admin)
		code, _, errOut := e.run("auth", "login", "--client-secret", e.clientFile(t, "installed", loginClient, "GOCSPX-wrong"))
		if code != exitAuth || !strings.Contains(errOut, "refused the sign-in's code") || strings.Contains(errOut, "GOCSPX-wrong") {
			t.Errorf("exit %d\n%s", code, errOut)
		}
	})
	t.Run("no browser: the address is printed", func(t *testing.T) {
		e := newLoginEnv(t, admin)
		e.s.ios.browse = nil
		code, _, errOut := e.run("auth", "login", "--client-secret", e.clientFile(t, "installed", loginClient, loginSecret), "--timeout", "200ms")
		if code != exitAuth || !strings.Contains(errOut, "Open this address in a browser on this machine to sign in:") ||
			!strings.Contains(errOut, "/o/oauth2/auth?") {
			t.Errorf("exit %d\n%s", code, errOut)
		}
	})
}
