package emulator_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/scope"
)

const (
	clientID     = "123-abc.apps.googleusercontent.com"
	clientSecret = "GOCSPX-emulator"
	sharedClient = "shared.apps.googleusercontent.com"
)

// oauthEnv is an emulator with OAuth clients and a loopback listener that
// plays invitectl's redirect handler.
type oauthEnv struct {
	srv   *emulator.Server
	base  string
	clk   *clock
	hits  chan url.Values // what the loopback handler received
	back  string          // its redirect URI
	oauth *oauth2.Config
}

func newOAuthEnv(t *testing.T, loginUser string) *oauthEnv {
	t.Helper()
	w := smallWorld()
	w.Admins = []string{"admin@example.com"}
	e := &oauthEnv{clk: newClock(), hits: make(chan url.Values, 10)}
	e.srv, e.base, _ = start(t, w, emulator.Config{Now: e.clk.now, Auth: emulator.AuthConfig{
		Require: true, LoginUser: loginUser,
		Clients: map[string]emulator.OAuthClient{
			clientID:      {Secret: clientSecret},
			sharedClient:  {Secret: "x", Scopes: []string{scope.CloudPlatform, "openid", "email"}},
			"testing-app": {Secret: "t", Testing: true},
		},
	}}, invitations.V1)
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits <- r.URL.Query()
		_, _ = io.WriteString(w, "You may close this window.")
	}))
	t.Cleanup(lb.Close)
	e.back = lb.URL + "/callback"
	e.oauth = e.config(clientID, clientSecret, scope.Invitations)
	return e
}

func (e *oauthEnv) config(id, secret string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: e.back, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: e.base + "/o/oauth2/auth", TokenURL: e.base + "/token"}}
}

// browse plays the browser: it opens the authorization URL and follows the
// redirect, if any, to the loopback handler. It returns the final HTTP code
// and page, and what the loopback handler received (nil: nothing).
func (e *oauthEnv) browse(t *testing.T, authURL string) (int, string, url.Values) {
	t.Helper()
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	select {
	case q := <-e.hits:
		return resp.StatusCode, string(page), q
	default:
		return resp.StatusCode, string(page), nil
	}
}

// code runs the consent step and returns the code the loopback received.
func (e *oauthEnv) code(t *testing.T, oc *oauth2.Config, verifier string) string {
	t.Helper()
	_, page, q := e.browse(t, oc.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier)))
	if q == nil || q.Get("state") != "st4te" || q.Get("code") == "" {
		t.Fatalf("no code at the loopback: %v (page %q)", q, page)
	}
	return q.Get("code")
}

// TestAuthCodeFlowWithPKCE: the installed-app flow end to end with
// x/oauth2, and API calls with its token act as the user who consented
// (issue 12 item 8).
func TestAuthCodeFlowWithPKCE(t *testing.T) {
	e := newOAuthEnv(t, "Admin@Example.com")
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	code := e.code(t, e.oauth, verifier)
	tok, err := e.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Extra("scope") != scope.Invitations {
		t.Fatalf("token %+v scope %v", tok, tok.Extra("scope"))
	}
	c, err := invitations.New(ctx, invitations.Config{Customer: customer, Endpoint: e.base, TokenSource: e.oauth.TokenSource(ctx, tok)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(ctx, "nys@example.com"); err != nil {
		t.Fatalf("send with the login's token: %v", err)
	}
	st := e.srv.State()
	if st.Auth.Actors["admin@example.com"] != 1 || st.Auth.PKCE["S256"] != 1 {
		t.Fatalf("auth state %+v", st.Auth)
	}
	// The code is spent.
	_, err = e.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if re := retrieveErr(t, err); re.ErrorCode != "invalid_grant" {
		t.Fatalf("second exchange of one code: %v", err)
	}
	// The refresh token gets new access tokens, for this client only.
	fresh, err := e.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || fresh.AccessToken == "" || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("refresh: %+v, %v", fresh, err)
	}
	_, err = e.config(clientID, "wrong", scope.Invitations).TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if re := retrieveErr(t, err); re.ErrorCode != "invalid_client" {
		t.Fatalf("refresh with a wrong secret: %v", err)
	}
	_, err = e.config("testing-app", "t").TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if re := retrieveErr(t, err); re.ErrorCode != "unauthorized_client" {
		t.Fatalf("refresh by another client: %v", err)
	}
}

func retrieveErr(t *testing.T, err error) *oauth2.RetrieveError {
	t.Helper()
	return errAs[*oauth2.RetrieveError](t, err)
}

// TestCodeExchangeRefusals: the token endpoint checks the client, the
// redirect URI, the code's age and the PKCE verifier.
func TestCodeExchangeRefusals(t *testing.T) {
	e := newOAuthEnv(t, "admin@example.com")
	ctx := context.Background()
	cases := []struct {
		name  string
		prep  func()
		oc    *oauth2.Config
		opts  func(verifier string) []oauth2.AuthCodeOption
		code  string
		descr string
	}{
		{"wrong verifier", nil, e.oauth, func(string) []oauth2.AuthCodeOption {
			return []oauth2.AuthCodeOption{oauth2.VerifierOption(oauth2.GenerateVerifier())}
		}, "invalid_grant", "Invalid code verifier."},
		{"no verifier", nil, e.oauth, func(string) []oauth2.AuthCodeOption { return nil }, "invalid_grant", "Missing code verifier."},
		{"wrong secret", nil, e.config(clientID, "nope"), nil, "invalid_client", "Unauthorized"},
		{"unknown client", nil, e.config("ghost", "x"), nil, "invalid_client", "The OAuth client was not found."},
		{"another redirect", nil, &oauth2.Config{ClientID: clientID, ClientSecret: clientSecret, RedirectURL: "http://127.0.0.1:1/other",
			Endpoint: e.oauth.Endpoint}, nil, "redirect_uri_mismatch", ""},
		{"expired code", func() { e.clk.add(11 * time.Minute) }, e.oauth, nil, "invalid_grant", "Bad Request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			verifier := oauth2.GenerateVerifier()
			code := e.code(t, e.oauth, verifier)
			if tc.prep != nil {
				tc.prep()
			}
			opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
			if tc.opts != nil {
				opts = tc.opts(verifier)
			}
			_, err := tc.oc.Exchange(ctx, code, opts...)
			re := retrieveErr(t, err)
			if re.ErrorCode != tc.code || re.ErrorDescription != tc.descr && tc.descr != "" {
				t.Fatalf("%v: error %q %q, want %q %q", err, re.ErrorCode, re.ErrorDescription, tc.code, tc.descr)
			}
			// A failed exchange does not spend the code... unless it expired.
			if tc.name != "expired code" {
				if _, err := e.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err != nil {
					t.Fatalf("the right exchange after a refused one: %v", err)
				}
			}
		})
	}
}

// TestAuthorizationRefusals: what the browser sees when Google will not
// give a code. Google shows an error page and does not redirect for a bad
// client, redirect URI or scope (its shared clients cannot get the
// cloud-identity.userinvitations scope: GAM-team/GAM issues 1351, 1358),
// and redirects with error=access_denied when the user declines.
func TestAuthorizationRefusals(t *testing.T) {
	e := newOAuthEnv(t, "admin@example.com")
	plain := func(oc *oauth2.Config) string {
		return oc.AuthCodeURL("s1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	}
	oob := e.config(clientID, clientSecret, scope.Invitations)
	oob.RedirectURL = "urn:ietf:wg:oauth:2.0:oob"
	web := e.config(clientID, clientSecret, scope.Invitations)
	web.RedirectURL = "https://example.com/callback"
	cases := []struct {
		name   string
		url    string
		status int
		page   string
	}{
		{"unknown client", plain(e.config("ghost", "", scope.Invitations)), 401, "Error 401: invalid_client"},
		{"shared client, invitations scope", plain(e.config(sharedClient, "x", scope.CloudPlatform, scope.Invitations)), 400,
			"Error 400: invalid_scope</p><p>Some requested scopes cannot be shown: [" + scope.Invitations + "]"},
		{"unknown scope", plain(e.config(clientID, clientSecret, "https://www.googleapis.com/auth/frobnicate")), 400, "invalid_scope"},
		{"no scope", plain(e.config(clientID, clientSecret)), 400, "Missing required parameter: scope"},
		{"not loopback", plain(web), 400, "redirect_uri_mismatch"},
		{"out of band", plain(oob), 400, "OOB"},
		{"bad challenge method", e.oauth.AuthCodeURL("s1", oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)),
			oauth2.SetAuthURLParam("code_challenge_method", "MD5")), 400, "code_challenge"},
	}
	for _, tc := range cases {
		code, page, hit := e.browse(t, tc.url)
		if code != tc.status || !strings.Contains(page, tc.page) || hit != nil {
			t.Errorf("%s: HTTP %d %q, loopback got %v; want %d with %q and no redirect", tc.name, code, page, hit, tc.status, tc.page)
		}
	}
	// The shared client still gets the scopes it is allowed.
	if _, _, hit := e.browse(t, plain(e.config(sharedClient, "x", scope.CloudPlatform))); hit == nil || hit.Get("code") == "" {
		t.Errorf("shared client with an allowed scope: %v", hit)
	}

	declined := newOAuthEnv(t, "")
	_, _, hit := declined.browse(t, plain(declined.oauth))
	if hit == nil || hit.Get("error") != "access_denied" || hit.Get("state") != "s1" || hit.Get("code") != "" {
		t.Errorf("declined consent: loopback got %v", hit)
	}
	// Without PKCE Google still issues a code; the state records it.
	_, _, hit = e.browse(t, e.oauth.AuthCodeURL("s2"))
	if hit == nil || hit.Get("code") == "" || e.srv.State().Auth.PKCE["none"] != 1 {
		t.Errorf("no PKCE: %v, %v", hit, e.srv.State().Auth.PKCE)
	}
}

// TestLoginOfANonAdmin: a user who is not an administrator gets tokens,
// and the API refuses what they do.
func TestLoginOfANonAdmin(t *testing.T) {
	e := newOAuthEnv(t, "nys@example.com")
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	tok, err := e.oauth.Exchange(ctx, e.code(t, e.oauth, verifier), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := invitations.New(ctx, invitations.Config{Customer: customer, Endpoint: e.base, TokenSource: e.oauth.TokenSource(ctx, tok)})
	_, err = c.IsInvitable(ctx, "nys@example.com")
	if e := apiErr(t, err); e.HTTPCode != 403 || !strings.Contains(e.Message, "Not Authorized") {
		t.Fatalf("a non-admin's call: %+v", e)
	}
}

// TestTestingAppRefreshExpires: refresh tokens of an External app in
// Testing last 7 days.
func TestTestingAppRefreshExpires(t *testing.T) {
	e := newOAuthEnv(t, "admin@example.com")
	ctx := context.Background()
	oc := e.config("testing-app", "t", scope.Invitations)
	verifier := oauth2.GenerateVerifier()
	tok, err := oc.Exchange(ctx, e.code(t, oc, verifier), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	e.clk.add(7*24*time.Hour - time.Minute)
	if _, err := oc.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Fatalf("refresh within 7 days: %v", err)
	}
	e.clk.add(time.Minute)
	_, err = oc.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if re := retrieveErr(t, err); re.ErrorCode != "invalid_grant" {
		t.Fatalf("refresh after 7 days: %v", err)
	}
}
