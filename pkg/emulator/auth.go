package emulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/invitectl/invitectl/pkg/scope"
)

// googleTokenURL is the audience of Google's JWT-bearer assertions.
const googleTokenURL = "https://oauth2.googleapis.com/token"

// AuthConfig makes the emulator demand access tokens it issued itself, the
// way Google's token endpoint and APIs behave for a service account with
// domain-wide delegation.
type AuthConfig struct {
	Require bool
	// Keys are the service-account public keys the token endpoint trusts,
	// by the account's email (the JWT's iss).
	Keys map[string]*rsa.PublicKey
	// Delegated lists, per service account, the scopes an administrator
	// authorised for domain-wide delegation; nil authorises the
	// invitation scopes, spreadsheets.readonly and drive.file for every
	// trusted key.
	Delegated map[string][]string
	// Impersonable service accounts get a key held by the emulator, which
	// signs JWTs for them through IAM Credentials signJwt.
	Impersonable []string
	// TokenLifetime is how long issued tokens are accepted by the API,
	// whatever expires_in told the client (to test expiry); 0 means 1 h.
	TokenLifetime time.Duration
	// Disabled answers every API call 403 SERVICE_DISABLED, as for a
	// project where the Cloud Identity API is not enabled.
	Disabled bool
	// Logins are refresh tokens of users' own OAuth logins (gcloud's
	// application-default login), each granting fixed scopes to its user.
	Logins map[string]Login
	// Clients are the OAuth clients, by client ID, that the authorization
	// endpoint (GET /o/oauth2/auth) and the authorization_code grant of
	// POST /token know.
	Clients map[string]OAuthClient
	// LoginUser is the Google account that signs in and consents at the
	// authorization endpoint; API calls with the tokens it gets act as this
	// user, an administrator of the world or not. "" means the user
	// declines: the redirect carries error=access_denied.
	LoginUser string
}

// Login is a user's OAuth login: who, and the scopes consented to.
type Login struct {
	Subject string
	Scopes  []string
}

// grant is an issued access token.
type grant struct {
	principal string // the service account
	subject   string // the user it acts as; "" for the account itself
	scopes    []string
	expires   time.Time
}

// authority is the emulator's token endpoint and token store.
type authority struct {
	cfg       AuthConfig
	now       func() time.Time
	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey
	signers   map[string]*rsa.PrivateKey // impersonable accounts
	tokens    map[string]grant
	codes     map[string]authCode
	refreshes map[string]refreshGrant
	actors    map[string]int // API calls per subject
	scopes    map[string]int // token requests per scope set
	pkce      map[string]int // authorization codes by PKCE method
}

func newAuthority(cfg AuthConfig, now func() time.Time) (*authority, error) {
	a := &authority{cfg: cfg, now: now, keys: map[string]*rsa.PublicKey{}, signers: map[string]*rsa.PrivateKey{},
		tokens: map[string]grant{}, codes: map[string]authCode{}, refreshes: map[string]refreshGrant{},
		actors: map[string]int{}, scopes: map[string]int{}, pkce: map[string]int{}}
	for email, k := range cfg.Keys {
		a.keys[strings.ToLower(email)] = k
	}
	for _, sa := range cfg.Impersonable {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("key for %s: %w", sa, err)
		}
		a.signers[strings.ToLower(sa)] = k
		a.keys[strings.ToLower(sa)] = &k.PublicKey
	}
	return a, nil
}

func tokenError(w http.ResponseWriter, code int, kind, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": kind, "error_description": desc})
}

// serveToken implements Google's token endpoint: the JWT-bearer grant, the
// authorization_code grant and the refresh grant.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	a := s.auth
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the body is not a form")
		return
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
	case "assertion": // the legacy form, still used to exchange signJwt results
		if r.PostForm.Get("assertion_type") != "http://oauth.net/grant_type/jwt/1.0/bearer" {
			tokenError(w, http.StatusBadRequest, "invalid_request", "Invalid assertion_type.")
			return
		}
	case "refresh_token":
		s.serveRefresh(w, r)
		return
	case "authorization_code":
		s.serveCode(w, r)
		return
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+gt)
		return
	}
	claims, err := a.verify(r.PostForm.Get("assertion"))
	if err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", err.Error())
		return
	}
	aud := claims.Aud
	if aud != googleTokenURL && !strings.HasSuffix(aud, "/token") {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: audience must be the token endpoint.")
		return
	}
	scopes := strings.Fields(claims.Scope)
	if len(scopes) == 0 {
		tokenError(w, http.StatusBadRequest, "invalid_scope", "Empty or missing scope not allowed.")
		return
	}
	sub := strings.ToLower(claims.Sub)
	if sub != "" {
		if !a.delegated(claims.Iss, scopes) {
			tokenError(w, http.StatusUnauthorized, "unauthorized_client",
				"Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.")
			return
		}
		s.mu.Lock()
		known := s.account(sub) != nil
		admin := slices.Contains(s.world.Admins, sub)
		s.mu.Unlock()
		if !known && !admin {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid email or User ID")
			return
		}
	}
	a.issue(w, grant{principal: strings.ToLower(claims.Iss), subject: sub, scopes: scopes})
}

// who is the identity quota and spreadsheet ownership key on.
func (g grant) who() string {
	if g.subject != "" {
		return g.subject
	}
	return g.principal
}

// serveRefresh implements the refresh-token grant of a user's own login.
func (s *Server) serveRefresh(w http.ResponseWriter, r *http.Request) {
	if s.serveCodeRefresh(w, r) {
		return
	}
	login, ok := s.auth.cfg.Logins[r.PostForm.Get("refresh_token")]
	if !ok {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.")
		return
	}
	s.auth.issue(w, grant{principal: login.Subject, subject: strings.ToLower(login.Subject), scopes: login.Scopes})
}

// issue stores a new access token for g and writes the token response.
func (a *authority) issue(w http.ResponseWriter, g grant) {
	writeJSON(w, http.StatusOK, map[string]any{"access_token": a.mint(g), "token_type": "Bearer", "expires_in": 3600})
}

// mint stores a new access token for g.
func (a *authority) mint(g grant) string {
	tok := "emu-token-" + randomID()
	lifetime := a.cfg.TokenLifetime
	if lifetime <= 0 {
		lifetime = time.Hour
	}
	g.expires = a.now().Add(lifetime)
	a.mu.Lock()
	a.tokens[tok] = g
	a.scopes[strings.Join(g.scopes, " ")]++
	a.mu.Unlock()
	return tok
}

func (a *authority) delegated(principal string, scopes []string) bool {
	allowed := []string{scope.Invitations, scope.InvitationsReadOnly, scope.SheetsReadOnly, scope.DriveFile}
	if a.cfg.Delegated != nil {
		allowed = a.cfg.Delegated[strings.ToLower(principal)]
	}
	for _, sc := range scopes {
		if !slices.Contains(allowed, sc) {
			return false
		}
	}
	return true
}

type jwtClaims struct {
	Iss   string `json:"iss"`
	Sub   string `json:"sub"`
	Scope string `json:"scope"`
	Aud   string `json:"aud"`
	Iat   int64  `json:"iat"`
	Exp   int64  `json:"exp"`
}

// verify checks an RS256 assertion against the trusted keys and its times.
func (a *authority) verify(assertion string) (jwtClaims, error) {
	var c jwtClaims
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return c, errors.New("Invalid JWT: not a signed JWT.")
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &c) != nil {
		return c, errors.New("Invalid JWT: malformed.")
	}
	if hdr.Alg != "RS256" {
		return c, fmt.Errorf("Invalid JWT: algorithm %q is not RS256.", hdr.Alg)
	}
	a.mu.Lock()
	key := a.keys[strings.ToLower(c.Iss)]
	a.mu.Unlock()
	if key == nil {
		return c, errors.New("Invalid JWT Signature.")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) != nil {
		return c, errors.New("Invalid JWT Signature.")
	}
	now := a.now().Unix()
	switch {
	case c.Exp <= now:
		return c, errors.New("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
	case c.Iat > now+300 || c.Exp-c.Iat > 3600:
		return c, errors.New("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
	}
	return c, nil
}

// serveSignJwt implements IAM Credentials signJwt for impersonable accounts:
// the caller needs a token the emulator issued.
func (s *Server) serveSignJwt(w http.ResponseWriter, r *http.Request) {
	a := s.auth
	if _, ok := a.bearer(r); !ok {
		writeError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request is missing required authentication credential.")
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/v1/projects/-/serviceAccounts/")
	sa, ok := strings.CutSuffix(rest, ":signJwt")
	if !ok || r.Method != http.MethodPost {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested URL was not found on this server.")
		return
	}
	key := a.signers[strings.ToLower(sa)]
	if key == nil {
		writeError(w, http.StatusForbidden, "PERMISSION_DENIED", fmt.Sprintf("Permission 'iam.serviceAccounts.signJwt' denied on resource (or it may not exist): %s", sa))
		return
	}
	var req struct {
		Payload string `json:"payload"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Payload == "" {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "payload is required")
		return
	}
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT","kid":"emu-` + strings.ToLower(sa) + `"}`))
	body := base64.RawURLEncoding.EncodeToString([]byte(req.Payload))
	sum := sha256.Sum256([]byte(head + "." + body))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		writeError(w, http.StatusInternalServerError, "INTERNAL", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"keyId": "emu-" + sa, "signedJwt": head + "." + body + "." + base64.RawURLEncoding.EncodeToString(sig)})
}

// bearer finds the request's token grant.
func (a *authority) bearer(r *http.Request) (grant, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return grant{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	g, ok := a.tokens[tok]
	return g, ok
}

// authorize checks a call's token: present, known, unexpired, with one of
// the scopes in need, and (needAdmin) acting as an administrator of the
// customer. It returns the call's grant (zero without tokens), or writes
// Google's error and returns false when the call must not proceed.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, needAdmin bool, need ...string) (grant, bool) {
	a := s.auth
	if a == nil {
		return grant{}, true
	}
	if a.cfg.Disabled {
		writeError(w, http.StatusForbidden, "PERMISSION_DENIED",
			"Cloud Identity API has not been used in project 0 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/cloudidentity.googleapis.com/overview then retry.",
			map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED", "domain": "googleapis.com",
				"metadata": map[string]string{"service": "cloudidentity.googleapis.com"}})
		return grant{}, false
	}
	if !a.cfg.Require {
		g, _ := a.bearer(r)
		return g, true
	}
	if r.Header.Get("Authorization") == "" {
		writeError(w, http.StatusUnauthorized, "UNAUTHENTICATED",
			"Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
		return grant{}, false
	}
	g, ok := a.bearer(r)
	if !ok || !a.now().Before(g.expires) {
		writeError(w, http.StatusUnauthorized, "UNAUTHENTICATED",
			"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
		return grant{}, false
	}
	covered := false
	for _, sc := range g.scopes {
		if slices.Contains(need, sc) {
			covered = true
		}
	}
	if !covered {
		writeError(w, http.StatusForbidden, "PERMISSION_DENIED", "Request had insufficient authentication scopes.",
			map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com"})
		return grant{}, false
	}
	a.mu.Lock()
	a.actors[g.subject]++
	a.mu.Unlock()
	if !needAdmin {
		return g, true
	}
	s.mu.Lock()
	admin := g.subject != "" && slices.Contains(s.world.Admins, g.subject)
	s.mu.Unlock()
	if !admin {
		writeError(w, http.StatusForbidden, "PERMISSION_DENIED", "Not Authorized to access this resource/api")
		return grant{}, false
	}
	return g, true
}

// AuthState is what the token endpoint did, for tests.
type AuthState struct {
	// Actors counts authenticated API calls by the subject they acted as.
	Actors map[string]int `json:"actors"`
	// Scopes counts issued tokens by their space-separated scopes.
	Scopes map[string]int `json:"scopes"`
	// Tokens is the number of tokens issued.
	Tokens int `json:"tokens"`
	// PKCE counts the authorization codes issued, by the request's
	// code_challenge_method: S256, plain or none.
	PKCE map[string]int `json:"pkce,omitempty"`
}

func (a *authority) state() *AuthState {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return &AuthState{Actors: maps.Clone(a.actors), Scopes: maps.Clone(a.scopes), Tokens: len(a.tokens), PKCE: maps.Clone(a.pkce)}
}

// IssuedTokens returns every access token issued, so that tests can look
// for them in output. Nothing else exposes them.
func (s *Server) IssuedTokens() []string {
	if s.auth == nil {
		return nil
	}
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	out := make([]string, 0, len(s.auth.tokens))
	for t := range s.auth.tokens {
		out = append(out, t)
	}
	return out
}

// ParsePublicKey reads a trusted key: a service-account JSON key (its
// client_email and the public half of its private key) or a PEM public key
// with the account's email given separately.
func ParsePublicKey(b []byte) (email string, key *rsa.PublicKey, err error) {
	var sa struct {
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if json.Unmarshal(b, &sa) == nil && sa.PrivateKey != "" {
		blk, _ := pem.Decode([]byte(sa.PrivateKey))
		if blk == nil {
			return "", nil, errors.New("private_key is not PEM")
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			if k1, err1 := x509.ParsePKCS1PrivateKey(blk.Bytes); err1 == nil {
				return sa.ClientEmail, &k1.PublicKey, nil
			}
			return "", nil, err
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return "", nil, errors.New("private_key is not RSA")
		}
		return sa.ClientEmail, &rk.PublicKey, nil
	}
	return "", nil, errors.New("not a service-account JSON key")
}

func randomID() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
