package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/invitectl/invitectl/pkg/atomicfile"
	"github.com/invitectl/invitectl/pkg/duration"
	"github.com/invitectl/invitectl/pkg/scope"
)

// An administrator's own login, with an OAuth client of their own: the
// installed-app flow (a loopback redirect and PKCE, RFC 8252 and RFC 7636)
// as Google documents it for desktop apps
// (https://developers.google.com/identity/protocols/oauth2/native-app).
// Google's shared OAuth clients, gcloud's among them, are refused the
// cloud-identity.userinvitations scope with "Error 400: invalid_scope"
// (GAM-team/GAM issues 1351 and 1358), so `gcloud auth application-default
// login --scopes=…` alone can fail; GAM answers with the admin's own
// client, and so does invitectl.

// ClientSecret is an OAuth client of the Desktop kind, as the Cloud console
// downloads it (client_secret_ID.json, its "installed" object).
type ClientSecret struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	AuthURI      string `json:"auth_uri"`
	TokenURI     string `json:"token_uri"`
}

// Google's endpoints of the installed-app flow, for a client file that does
// not name them.
const (
	googleAuthURI  = "https://accounts.google.com/o/oauth2/auth"
	googleTokenURI = "https://oauth2.googleapis.com/token"
)

// desktopFix is how to get a client file that works.
const desktopFix = "in the Cloud console, APIs & Services > Credentials > Create credentials > OAuth client ID, application type Desktop app, then Download JSON"

// ReadClientSecret reads a client file downloaded from the Cloud console.
// A Web application client is refused: its redirect URIs must be listed in
// advance, and a loopback on any port is allowed only to Desktop clients.
func ReadClientSecret(path string) (ClientSecret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return ClientSecret{}, &Error{Problem: fmt.Sprintf("cannot read the OAuth client file: %v", err), Fix: "check the path given to --client-secret", Err: err}
	}
	var f struct {
		Installed *ClientSecret `json:"installed"`
		Web       *ClientSecret `json:"web"`
		Type      string        `json:"type"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return ClientSecret{}, &Error{Problem: fmt.Sprintf("OAuth client file %s is not JSON: %v", path, err), Fix: desktopFix}
	}
	switch {
	case f.Installed != nil && f.Installed.ClientID != "" && f.Installed.ClientSecret != "":
	case f.Web != nil:
		return ClientSecret{}, &Error{Problem: fmt.Sprintf("%s is the client of a Web application, which cannot redirect to this machine", path), Fix: desktopFix}
	case f.Type == "service_account":
		return ClientSecret{}, &Error{Problem: fmt.Sprintf("%s is a service-account key, not an OAuth client", path),
			Fix: "pass the key with --credentials KEY.json --subject ADMIN instead, or " + desktopFix}
	default:
		return ClientSecret{}, &Error{Problem: fmt.Sprintf("%s holds no OAuth client of the Desktop kind (no \"installed\" client ID and secret)", path), Fix: desktopFix}
	}
	c := *f.Installed
	if c.AuthURI == "" {
		c.AuthURI = googleAuthURI
	}
	if c.TokenURI == "" {
		c.TokenURI = googleTokenURI
	}
	return c, nil
}

// StoredLogin is a login kept on disk: the refresh token and the client
// that may use it, in the "authorized_user" shape that gcloud writes for
// Application Default Credentials (so other Google tools can read it too),
// with the token endpoint and the scopes consented to.
type StoredLogin struct {
	Type         string    `json:"type"` // always "authorized_user"
	ClientID     string    `json:"client_id"`
	ClientSecret string    `json:"client_secret"`
	RefreshToken string    `json:"refresh_token"`
	TokenURI     string    `json:"token_uri"`
	Scopes       []string  `json:"scopes"`
	Created      time.Time `json:"created"`
}

// LoginConfig is what a login needs.
type LoginConfig struct {
	Client ClientSecret
	Scopes []string
	// AuthEndpoint, when set, replaces Google's authorization and token
	// hosts (an emulator).
	AuthEndpoint string
	// Transport carries the token request; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Open opens the authorization URL in a browser; nil, or an error,
	// leaves the URL printed for the user to open.
	Open func(url string) error
	// Notify receives the lines to show the user (on stderr).
	Notify func(string)
	// Timeout bounds the wait for the browser; 0 means 5 minutes.
	Timeout time.Duration
}

// Login runs the installed-app flow: it listens on a loopback port
// (127.0.0.1, a port the system picks), sends the user to the client's
// authorization endpoint with a PKCE challenge (S256), takes the code the
// browser brings back, and exchanges it with the verifier for a refresh
// token. Errors are *Error with the fix; nothing secret is in them.
func Login(ctx context.Context, c LoginConfig) (StoredLogin, error) {
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Minute
	}
	notify := c.Notify
	if notify == nil {
		notify = func(string) {}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return StoredLogin{}, fmt.Errorf("listen on a loopback port for the browser's answer: %w", err)
	}
	defer l.Close()
	oc := &oauth2.Config{
		ClientID: c.Client.ClientID, ClientSecret: c.Client.ClientSecret, Scopes: c.Scopes,
		RedirectURL: "http://" + l.Addr().String() + "/",
		Endpoint: oauth2.Endpoint{AuthURL: rewrite(c.Client.AuthURI, c.AuthEndpoint),
			TokenURL: rewrite(c.Client.TokenURI, c.AuthEndpoint)},
	}
	state := randomToken()
	verifier := oauth2.GenerateVerifier()
	authURL := oc.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	answers := make(chan url.Values, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != state {
			// Not the answer to this login (a stale tab, a favicon, a
			// forged request): keep waiting for the right one.
			http.Error(w, "This is not the answer invitectl is waiting for.", http.StatusBadRequest)
			return
		}
		page := "Signed in. You may close this window and return to invitectl."
		if e := q.Get("error"); e != "" {
			page = "Not signed in (" + e + "). Return to invitectl for what to do."
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>invitectl</title><p>%s</p>\n", html.EscapeString(page))
		select {
		case answers <- q:
		default: // answered already
		}
	})}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	opened := false
	if c.Open != nil {
		if err := c.Open(authURL); err == nil {
			opened = true
		} else {
			notify("Could not open a browser: " + err.Error())
		}
	}
	if opened {
		notify("Your browser has been opened to sign in. If it did not open, visit:\n\n  " + authURL + "\n")
	} else {
		notify("Open this address in a browser on this machine to sign in:\n\n  " + authURL + "\n")
	}
	notify(fmt.Sprintf("Waiting up to %s for the browser (it answers on %s).", duration.Format(c.Timeout), oc.RedirectURL))

	timer := time.NewTimer(c.Timeout)
	defer timer.Stop()
	var q url.Values
	select {
	case q = <-answers:
	case <-ctx.Done():
		return StoredLogin{}, ctx.Err()
	case <-timer.C:
		return StoredLogin{}, &Error{
			Problem: fmt.Sprintf("no answer from the browser within %s", duration.Format(c.Timeout)),
			Fix: "if the browser showed \"Error 400: invalid_scope\", this OAuth client may not ask for " + scope.Invitations +
				": Google refuses it to shared clients such as gcloud's (GAM-team/GAM issues 1351 and 1358); use a client of your own project (" +
				desktopFix + ") whose OAuth consent screen lists the scope. If it showed another error, fix what it names. Then run 'invitectl auth login' again (--timeout to wait longer)",
		}
	}
	if e := q.Get("error"); e != "" {
		if e == "access_denied" {
			return StoredLogin{}, &Error{Problem: "the sign-in was declined (access_denied)",
				Fix: "sign in as an administrator and allow what invitectl asks for; if the consent screen is External and in Testing, add the account as a test user"}
		}
		return StoredLogin{}, &Error{Problem: fmt.Sprintf("the authorization endpoint answered %s", strings.TrimSpace(e+" "+q.Get("error_description"))),
			Fix: "check the OAuth client and its consent screen in the Cloud console"}
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: transportOr(c.Transport)})
	tok, err := oc.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return StoredLogin{}, &Error{Problem: "the token endpoint refused the sign-in's code: " + Scrub(err.Error()),
			Fix: "check that the client file is the one of this OAuth client (its secret may have been reset), then run 'invitectl auth login' again", Err: err}
	}
	if tok.RefreshToken == "" {
		return StoredLogin{}, &Error{Problem: "the token endpoint issued no refresh token",
			Fix: "use an OAuth client of type Desktop app (" + desktopFix + ")"}
	}
	return StoredLogin{Type: "authorized_user", ClientID: oc.ClientID, ClientSecret: oc.ClientSecret,
		RefreshToken: tok.RefreshToken, TokenURI: oc.Endpoint.TokenURL, Scopes: c.Scopes, Created: time.Now().UTC()}, nil
}

// randomToken is an unguessable state parameter.
func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func transportOr(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return http.DefaultTransport
	}
	return rt
}

// rewrite points a URL on one of Google's auth hosts at authEndpoint ("":
// unchanged), as the AuthEndpoint transport does for requests.
func rewrite(raw, authEndpoint string) string {
	if authEndpoint == "" {
		return raw
	}
	to, err := url.Parse(authEndpoint)
	if err != nil || to.Host == "" {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil || !isGoogleAuthHost(u.Host) {
		return raw
	}
	retarget(u, to)
	return u.String()
}

func isGoogleAuthHost(host string) bool {
	for _, h := range googleAuthHosts {
		if host == h {
			return true
		}
	}
	return false
}

// retarget moves u to the scheme and host of to, under its path.
func retarget(u, to *url.URL) {
	u.Scheme, u.Host = to.Scheme, to.Host
	u.Path = strings.TrimSuffix(to.Path, "/") + u.Path
}

// SaveLogin writes a login to path, readable by its owner only, whole or
// not at all; its folder is created 0700.
func SaveLogin(path string, l StoredLogin) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// LoadLogin reads the login stored at path; ok is false when there is none.
func LoadLogin(path string) (l StoredLogin, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, false, nil
	}
	if err != nil {
		return l, false, err
	}
	if err := json.Unmarshal(b, &l); err != nil || l.RefreshToken == "" || l.ClientID == "" || l.TokenURI == "" {
		return l, false, fmt.Errorf("%s is not a login invitectl stored", path)
	}
	return l, true, nil
}

// googleToken says whether a login was made with Google's token endpoint,
// rather than an emulator's.
func (l StoredLogin) googleToken() bool {
	u, err := url.Parse(l.TokenURI)
	return err == nil && isGoogleAuthHost(u.Host)
}

// login is the admin's own stored login as a token source. Its tokens
// carry the scopes consented to at login, whatever the command asks for.
func login(ctx context.Context, o Options, l StoredLogin, id Identity) (oauth2.TokenSource, Identity, error) {
	if fi, err := os.Stat(o.Login); err == nil && fi.Mode().Perm()&0o077 != 0 && o.Warn != nil {
		o.Warn(fmt.Sprintf("stored login %s is readable by group or others (mode %o): chmod 600 %s", o.Login, fi.Mode().Perm(), o.Login))
	}
	id.Mode, id.Source, id.ClientID, id.Scopes, id.Subject = "login", o.Login, l.ClientID, l.Scopes, ""
	oc := &oauth2.Config{ClientID: l.ClientID, ClientSecret: l.ClientSecret, Scopes: l.Scopes,
		Endpoint: oauth2.Endpoint{TokenURL: l.TokenURI}}
	return annotated{oc.TokenSource(ctx, &oauth2.Token{RefreshToken: l.RefreshToken}), id}, id, nil
}
