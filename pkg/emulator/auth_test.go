package emulator_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/scope"
)

const sa = "sa@test.iam.gserviceaccount.com"

// assertion signs a JWT-bearer assertion the way a key file's holder does.
func assertion(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	head := enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "k1"})
	body := enc(claims)
	sum := sha256.Sum256([]byte(head + "." + body))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return head + "." + body + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func authServer(t *testing.T, now time.Time, delegated []string) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	w := smallWorld()
	w.Admins = []string{"admin@example.com"}
	cfg := emulator.Config{Now: func() time.Time { return now }, Auth: emulator.AuthConfig{
		Require: true, Keys: map[string]*rsa.PublicKey{sa: &key.PublicKey}, TokenLifetime: time.Hour,
	}}
	if delegated != nil {
		cfg.Auth.Delegated = map[string][]string{sa: delegated}
	}
	srv, err := emulator.New(w, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return key, hs.URL
}

func token(t *testing.T, base, jwt string) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(base+"/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jwt}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func call(t *testing.T, method, u, tok string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader("{}"))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestTokenEndpoint(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	key, base := authServer(t, now, []string{scope.InvitationsReadOnly})
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": sa, "sub": "admin@example.com", "scope": scope.InvitationsReadOnly,
			"aud": "https://oauth2.googleapis.com/token", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	cases := []struct {
		name   string
		jwt    string
		code   int
		errStr string
	}{
		{"good", assertion(t, key, claims(nil)), 200, ""},
		{"unknown key", assertion(t, other, claims(nil)), 400, "invalid_grant"},
		{"expired", assertion(t, key, claims(func(c map[string]any) { c["iat"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix() })), 400, "invalid_grant"},
		{"too long", assertion(t, key, claims(func(c map[string]any) { c["exp"] = now.Add(3 * time.Hour).Unix() })), 400, "invalid_grant"},
		{"audience", assertion(t, key, claims(func(c map[string]any) { c["aud"] = "https://example.com/" })), 400, "invalid_grant"},
		{"no scope", assertion(t, key, claims(func(c map[string]any) { c["scope"] = "" })), 400, "invalid_scope"},
		{"scope not delegated", assertion(t, key, claims(func(c map[string]any) { c["scope"] = scope.Invitations })), 401, "unauthorized_client"},
		{"unknown subject", assertion(t, key, claims(func(c map[string]any) { c["sub"] = "ghost@example.com" })), 400, "invalid_grant"},
		{"garbage", "not.a.jwt", 400, "invalid_grant"},
	}
	var good string
	for _, tc := range cases {
		code, body := token(t, base, tc.jwt)
		if code != tc.code || (tc.errStr != "" && body["error"] != tc.errStr) {
			t.Errorf("%s: HTTP %d %v, want %d %s", tc.name, code, body, tc.code, tc.errStr)
		}
		if tc.name == "good" {
			good, _ = body["access_token"].(string)
		}
	}
	inv := base + "/v1/customers/" + customer + "/userinvitations/nys@example.com"
	if code, _ := call(t, http.MethodGet, inv, good); code != 200 {
		t.Fatalf("get with a read-only token: HTTP %d", code)
	}
	code, body := call(t, http.MethodPost, inv+":send", good)
	e, _ := body["error"].(map[string]any)
	if code != 403 || !strings.Contains(fmtJSON(e["details"]), "ACCESS_TOKEN_SCOPE_INSUFFICIENT") {
		t.Fatalf("send with a read-only token: HTTP %d %v", code, body)
	}
	if code, _ := call(t, http.MethodGet, inv, ""); code != 401 {
		t.Fatalf("no token: HTTP %d", code)
	}
	if code, _ := call(t, http.MethodGet, inv, "emu-token-forged"); code != 401 {
		t.Fatalf("unknown token: HTTP %d", code)
	}
}

func TestNonAdminSubject(t *testing.T) {
	now := time.Now()
	key, base := authServer(t, now, nil)
	_, body := token(t, base, assertion(t, key, map[string]any{"iss": sa, "sub": "nys@example.com", "scope": scope.InvitationsReadOnly,
		"aud": "https://oauth2.googleapis.com/token", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}))
	tok, _ := body["access_token"].(string)
	code, resp := call(t, http.MethodGet, base+"/v1/customers/"+customer+"/userinvitations", tok)
	if code != 403 || !strings.Contains(fmtJSON(resp), "Not Authorized") {
		t.Fatalf("a user who is not an admin: HTTP %d %v", code, resp)
	}
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
