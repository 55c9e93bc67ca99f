package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/scope"
)

// writeKey writes a service-account key generated for the test (never
// committed) and returns its path and PEM.
func writeKey(t *testing.T, dir, email, tokenURI string, mode os.FileMode) (string, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "client_email": email, "private_key": pemKey,
		"private_key_id": "test-key-1", "client_id": "1234567890", "token_uri": tokenURI,
	})
	path := filepath.Join(dir, "key.json")
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
	return path, pemKey
}

func TestSetupErrors(t *testing.T) {
	dir := t.TempDir()
	key, _ := writeKey(t, dir, "sa@p.iam.gserviceaccount.com", "https://oauth2.googleapis.com/token", 0o600)
	user := filepath.Join(dir, "user.json")
	_ = os.WriteFile(user, []byte(`{"type":"authorized_user","client_id":"x","client_secret":"y","refresh_token":"z"}`), 0o600)
	garbage := filepath.Join(dir, "garbage.json")
	_ = os.WriteFile(garbage, []byte("not json"), 0o600)
	noenv := func(string) string { return "" }
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"missing subject", Options{Credentials: key}, "no --subject"},
		{"missing key", Options{Credentials: filepath.Join(dir, "nope.json"), Subject: "a@example.com"}, "cannot read key file"},
		{"not json", Options{Credentials: garbage, Subject: "a@example.com"}, "is not JSON"},
		{"user credentials", Options{Credentials: user, Subject: "a@example.com"}, "not a service-account key"},
		{"both modes", Options{Credentials: key, ImpersonateServiceAccount: "sa@x", Subject: "a@example.com"}, "exclude each other"},
		{"impersonation without subject", Options{ImpersonateServiceAccount: "sa@x"}, "no --subject"},
		{"no adc", Options{Getenv: func(string) string { return filepath.Join(dir, "none.json") }}, "no credentials"},
		{"adc service account without subject", Options{Getenv: func(string) string { return key }, Scopes: []string{scope.Invitations}}, "no --subject"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.o.Getenv == nil {
				tc.o.Getenv = noenv
			}
			_, _, err := TokenSource(context.Background(), tc.o)
			var setup *Error
			if !errors.As(err, &setup) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(setup.Hint(), "fix: ") {
				t.Fatalf("err = %v, want a setup error with %q and a fix", err, tc.want)
			}
			// The message is one line: the fix is printed under it.
			if strings.ContainsAny(err.Error(), "\r\n") || strings.Contains(err.Error(), "fix:") {
				t.Fatalf("err = %q, want the problem alone on one line", err)
			}
		})
	}
}

func TestModes(t *testing.T) {
	dir := t.TempDir()
	key, _ := writeKey(t, dir, "sa@p.iam.gserviceaccount.com", "https://oauth2.googleapis.com/token", 0o644)
	var warned []string
	ts, id, err := TokenSource(context.Background(), Options{Credentials: key, Subject: "admin@example.com", Scopes: []string{scope.InvitationsReadOnly},
		Warn: func(s string) { warned = append(warned, s) }})
	if err != nil || ts == nil || id.Mode != "key" || id.Principal != "sa@p.iam.gserviceaccount.com" || id.Subject != "admin@example.com" {
		t.Fatalf("key mode: %v %+v", err, id)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "readable by group or others") {
		t.Fatalf("warnings %v", warned)
	}
	ts, id, err = TokenSource(context.Background(), Options{Endpoint: "http://127.0.0.1:1", Scopes: []string{scope.Invitations}})
	if err != nil || ts != nil || id.Mode != "none" {
		t.Fatalf("endpoint without credentials: %v %v %+v", err, ts, id)
	}
	ts, id, err = TokenSource(context.Background(), Options{Getenv: func(string) string { return key }, Subject: "admin@example.com", Scopes: []string{scope.Invitations}})
	if err != nil || ts == nil || id.Mode != "adc" || id.Source != key {
		t.Fatalf("adc: %v %+v", err, id)
	}
}

func TestRedirect(t *testing.T) {
	var got []string
	rt := Options{AuthEndpoint: "http://127.0.0.1:9999/base", Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = append(got, r.URL.String())
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	})}.transport()
	for _, u := range []string{"https://oauth2.googleapis.com/token", "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/x:signJwt", "https://example.com/other"} {
		req, _ := http.NewRequest(http.MethodPost, u, nil)
		if _, err := rt.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"http://127.0.0.1:9999/base/token", "http://127.0.0.1:9999/base/v1/projects/-/serviceAccounts/x:signJwt", "https://example.com/other"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("redirected to %v, want %v", got, want)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestExplain(t *testing.T) {
	tokenErr := func(code, desc string) error {
		return &invitations.Error{Kind: invitations.KindAuth, Err: &url.Error{Op: "Get", URL: "x", Err: &oauth2.RetrieveError{ErrorCode: code, ErrorDescription: desc}}}
	}
	cases := []struct {
		err  error
		want string
	}{
		{tokenErr("unauthorized_client", "Client is unauthorized"), "Domain-wide delegation"},
		{tokenErr("invalid_scope", ""), "Domain-wide delegation"},
		{tokenErr("invalid_grant", "Invalid email or User ID"), "does not know --subject"},
		{tokenErr("invalid_grant", "Invalid JWT Signature."), "Create a new JSON key"},
		{&invitations.Error{HTTPCode: 403, Reason: "SERVICE_DISABLED"}, "not enabled"},
		{&invitations.Error{HTTPCode: 403, Reason: "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}, "lacks the scope"},
		{&invitations.Error{HTTPCode: 403, Status: "PERMISSION_DENIED"}, "administrator"},
		{&invitations.Error{HTTPCode: 401}, "expired or revoked"},
		// A refused token of gcloud's login is renewed with invitectl's own
		// login (gcloud's shared client is refused the scope), a key's by
		// checking the key.
		{WithIdentity(&invitations.Error{HTTPCode: 401}, Identity{Mode: "adc"}), "sign in with 'invitectl auth login --client-secret CLIENT_SECRET.json'"},
		{WithIdentity(&invitations.Error{HTTPCode: 401}, Identity{Mode: "key"}), "check that the key was not deleted or disabled"},
		// What the credentials were changes the advice.
		{&TokenFailure{Identity: Identity{Mode: "key", ClientID: "1234567890"}, Err: tokenErr("unauthorized_client", "")}, "add client ID 1234567890 (the service account's numeric OAuth2 client ID)"},
		{&TokenFailure{Identity: Identity{Mode: "impersonation"}, Err: tokenErr("unauthorized_client", "")}, "the service account's client ID (its numeric OAuth2 client ID: IAM & Admin"},
		{WithIdentity(&invitations.Error{HTTPCode: 401}, Identity{Mode: "none"}), "No credentials were used"},
		{WithIdentity(&invitations.Error{HTTPCode: 401}, Identity{Mode: "login"}), "run 'invitectl auth login' again"},
		{&TokenFailure{Identity: Identity{Mode: "login"}, Err: tokenErr("invalid_grant", "Token has been expired or revoked.")}, "Your stored login was refused (Token has been expired or revoked.)"},
		{WithIdentity(&invitations.Error{HTTPCode: 403, Reason: "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}, Identity{Mode: "login"}), "Your stored login lacks the scope"},
	}
	for _, tc := range cases {
		if got := Explain(tc.err); !strings.Contains(got, tc.want) || strings.Contains(got, "gcloud auth application-default login") {
			t.Errorf("Explain(%v) = %q, want %q and no advice to use gcloud's login", tc.err, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Redact(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	log.Debug("request Authorization: Bearer ya29.secret-token",
		"Authorization", "Bearer abc.def",
		"access_token", "tok123",
		"assertion", "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln",
		slog.Group("headers", slog.String("Authorization", "Bearer zzz"), slog.String("X", "fine")),
		"body", "key -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- end",
		"jwt", "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl",
	)
	out := buf.String()
	for _, secret := range []string{"ya29.secret-token", "abc.def", "tok123", "eyJhbGci", "zzz", "MIIE"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q reached the log: %s", secret, out)
		}
	}
	if !strings.Contains(out, "X=fine") {
		t.Errorf("ordinary attributes lost: %s", out)
	}
}

func TestScrub(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzYUBwLmlhbS5nc2VydmljZWFjY291bnQuY29tIn0.c2lnbmF0dXJlc2lnbmF0dXJl"
	tests := []struct {
		in      string
		secrets []string
		keep    []string
	}{
		// Item 15: a token endpoint that echoes the request body.
		{`oauth2: cannot fetch token: 400 Bad Request Response: {"error":"invalid_grant","request":"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=` + jwt + `"}`,
			[]string{jwt, "c2lnbmF0dXJl"}, []string{"invalid_grant", "assertion=REDACTED"}},
		{"echo: assertion=" + jwt[:60], []string{jwt[:60]}, []string{"assertion=REDACTED"}},
		{`{"access_token": "ya29.a0AfH6", "refresh_token":"1//0gabc", "expires_in": 3599}`,
			[]string{"ya29.a0AfH6", "1//0gabc"}, []string{`"expires_in": 3599`}},
		{`body: {\"client_secret\":\"GOCSPX-abc\"}`, []string{"GOCSPX-abc"}, []string{"client_secret"}},
		{"Authorization: Bearer abc.def.ghi", []string{"abc.def.ghi"}, []string{"Authorization: Bearer REDACTED"}},
		{"private_key_id=k-1 state=INVITED", nil, []string{"private_key_id=k-1 state=INVITED"}},
	}
	for _, tt := range tests {
		got := Scrub(tt.in)
		for _, s := range tt.secrets {
			if strings.Contains(got, s) {
				t.Errorf("Scrub(%q) = %q: still holds %q", tt.in, got, s)
			}
		}
		for _, k := range tt.keep {
			if !strings.Contains(got, k) {
				t.Errorf("Scrub(%q) = %q: lost %q", tt.in, got, k)
			}
		}
	}
}
