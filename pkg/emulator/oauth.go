package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/invitectl/invitectl/pkg/scope"
)

// OAuthClient is an OAuth client of the "Desktop app" kind, as an
// administrator creates one in the Cloud console for invitectl's own
// login: the installed-app flow with a loopback redirect and PKCE.
type OAuthClient struct {
	Secret string
	// Scopes lists what the client may be granted; nil allows every scope
	// the emulator knows. Any other scope is refused at the authorization
	// endpoint the way Google refuses its shared clients (gcloud's, GAM's
	// old one) the cloud-identity.userinvitations scope: an error page
	// "Error 400: invalid_scope", and no redirect (GAM-team/GAM issues
	// 1351 and 1358).
	Scopes []string
	// Testing is an app whose consent screen is External and in Testing:
	// Google's refresh tokens for it expire after 7 days.
	Testing bool
}

// Scopes beyond the invitation ones that the emulator's endpoints know.
const ()

// knownScopes are the scopes a client with no Scopes list may get; Google
// refuses an unknown scope as invalid_scope too.
var knownScopes = []string{
	scope.Invitations, scope.InvitationsReadOnly, scope.Spreadsheets, scope.SheetsReadOnly,
	scope.DriveFile, scope.Drive, scope.DriveReadOnly, scope.CloudPlatform,
	"openid", "email", "profile",
	"https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/userinfo.profile",
}

const (
	// codeLifetime bounds an authorization code. Google documents only that
	// a code is short-lived and single-use; RFC 6749 recommends at most
	// 10 minutes.
	codeLifetime = 10 * time.Minute
	// testingRefreshLifetime is Google's documented life of a refresh token
	// of an External app in Testing.
	testingRefreshLifetime = 7 * 24 * time.Hour
)

// authCode is an issued authorization code.
type authCode struct {
	client, redirect, subject string
	scopes                    []string
	challenge, method         string // PKCE; "" when the request had none
	expires                   time.Time
}

// refreshGrant is a refresh token issued by the authorization_code grant.
type refreshGrant struct {
	client, subject string
	scopes          []string
	expires         time.Time // zero: until revoked
}

var pkceRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// oauthPage writes the error page Google's authorization endpoint shows in
// the browser when it cannot or must not redirect.
func oauthPage(w http.ResponseWriter, code int, kind, detail string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<!doctype html><title>Authorization Error</title><h1>Authorization Error</h1><p>Error %d: %s</p><p>%s</p>\n",
		code, html.EscapeString(kind), html.EscapeString(detail))
}

// loopback reports whether a redirect URI is one an installed app may use:
// http on the loopback interface, any port.
func loopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" {
		return false
	}
	switch u.Hostname() {
	case "127.0.0.1", "::1", "localhost":
		return true
	}
	return false
}

// serveAuthorize is the authorization endpoint (GET /o/oauth2/auth): the
// configured login user signs in and consents at once, and the browser is
// redirected to the loopback redirect_uri with a code and the state. Like
// Google, it shows an error page instead of redirecting when the client,
// the redirect URI or a scope is wrong, and redirects with
// error=access_denied when the user declines (no LoginUser).
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	a := s.auth
	q := r.URL.Query()
	client, ok := a.cfg.Clients[q.Get("client_id")]
	if !ok {
		oauthPage(w, http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
		return
	}
	redirect := q.Get("redirect_uri")
	switch {
	case redirect == "urn:ietf:wg:oauth:2.0:oob":
		oauthPage(w, http.StatusBadRequest, "invalid_request",
			"The out-of-band (OOB) flow has been blocked in order to keep users secure. Use a loopback redirect instead.")
		return
	case !loopback(redirect):
		oauthPage(w, http.StatusBadRequest, "redirect_uri_mismatch",
			"The redirect URI in the request does not match the ones authorized for the OAuth client: a desktop app redirects to http://127.0.0.1:PORT.")
		return
	case q.Get("response_type") != "code":
		oauthPage(w, http.StatusBadRequest, "unsupported_response_type", "Invalid response_type: "+q.Get("response_type"))
		return
	}
	scopes := strings.Fields(q.Get("scope"))
	if len(scopes) == 0 {
		oauthPage(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: scope")
		return
	}
	allowed := knownScopes
	if client.Scopes != nil {
		allowed = client.Scopes
	}
	var refused []string
	for _, sc := range scopes {
		if !slices.Contains(allowed, sc) {
			refused = append(refused, sc)
		}
	}
	if len(refused) > 0 {
		oauthPage(w, http.StatusBadRequest, "invalid_scope", "Some requested scopes cannot be shown: ["+strings.Join(refused, ", ")+"]")
		return
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if challenge != "" {
		if method == "" {
			method = "plain" // RFC 7636's default
		}
		if (method != "S256" && method != "plain") || !pkceRE.MatchString(challenge) {
			oauthPage(w, http.StatusBadRequest, "invalid_request", "Invalid code_challenge or code_challenge_method.")
			return
		}
	}
	back, _ := url.Parse(redirect)
	v := back.Query()
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	user := strings.ToLower(a.cfg.LoginUser)
	if user == "" {
		v.Set("error", "access_denied")
		back.RawQuery = v.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
		return
	}
	code := "4/0emu-" + randomID()
	a.mu.Lock()
	a.codes[code] = authCode{client: q.Get("client_id"), redirect: redirect, subject: user, scopes: scopes,
		challenge: challenge, method: method, expires: a.now().Add(codeLifetime)}
	pkce := method
	if pkce == "" {
		pkce = "none"
	}
	a.pkce[pkce]++
	a.mu.Unlock()
	v.Set("code", code)
	v.Set("scope", strings.Join(scopes, " "))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// clientAuth authenticates the OAuth client of a token request, by HTTP
// Basic or by the form's client_id and client_secret, or writes the error.
func (a *authority) clientAuth(w http.ResponseWriter, r *http.Request) (string, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "Could not determine client ID from request.")
		return "", false
	}
	c, ok := a.cfg.Clients[id]
	if !ok {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
		return "", false
	}
	if secret != c.Secret {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "Unauthorized")
		return "", false
	}
	return id, true
}

// serveCode is the authorization_code grant: the client, the code (single
// use, short-lived), the redirect URI and the PKCE verifier are checked,
// then an access token and a refresh token are issued for the user who
// consented.
func (s *Server) serveCode(w http.ResponseWriter, r *http.Request) {
	a := s.auth
	client, ok := a.clientAuth(w, r)
	if !ok {
		return
	}
	code := r.PostForm.Get("code")
	a.mu.Lock()
	c, known := a.codes[code]
	a.mu.Unlock()
	switch {
	case !known:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Malformed auth code.")
		return
	case !a.now().Before(c.expires) || c.client != client:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Bad Request")
		return
	case r.PostForm.Get("redirect_uri") != c.redirect:
		tokenError(w, http.StatusBadRequest, "redirect_uri_mismatch", "Bad Request")
		return
	}
	if c.challenge != "" {
		verifier := r.PostForm.Get("code_verifier")
		if verifier == "" {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Missing code verifier.")
			return
		}
		got := verifier
		if c.method == "S256" {
			sum := sha256.Sum256([]byte(verifier))
			got = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if !pkceRE.MatchString(verifier) || got != c.challenge {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid code verifier.")
			return
		}
	}
	a.mu.Lock()
	if _, still := a.codes[code]; !still { // spent by a concurrent exchange
		a.mu.Unlock()
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Bad Request")
		return
	}
	delete(a.codes, code)
	refresh := "1//emu-" + randomID()
	rg := refreshGrant{client: client, subject: c.subject, scopes: c.scopes}
	if a.cfg.Clients[client].Testing {
		rg.expires = a.now().Add(testingRefreshLifetime)
	}
	a.refreshes[refresh] = rg
	a.mu.Unlock()
	tok := a.mint(grant{principal: client, subject: c.subject, scopes: c.scopes})
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3599,
		"refresh_token": refresh, "scope": strings.Join(c.scopes, " ")})
}

// serveCodeRefresh is the refresh grant of a token issued by
// serveCode; it reports false when the token is not one of those.
func (s *Server) serveCodeRefresh(w http.ResponseWriter, r *http.Request) bool {
	a := s.auth
	a.mu.Lock()
	rg, ok := a.refreshes[r.PostForm.Get("refresh_token")]
	a.mu.Unlock()
	if !ok {
		return false
	}
	client, ok := a.clientAuth(w, r)
	switch {
	case !ok:
	case client != rg.client:
		tokenError(w, http.StatusBadRequest, "unauthorized_client", "Unauthorized")
	case !rg.expires.IsZero() && !a.now().Before(rg.expires):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.")
	default:
		tok := a.mint(grant{principal: client, subject: rg.subject, scopes: rg.scopes})
		writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3599,
			"scope": strings.Join(rg.scopes, " ")})
	}
	return true
}
