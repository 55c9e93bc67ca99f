// Package auth turns invitectl's credential flags into an OAuth2 token
// source: a service-account key with domain-wide delegation, keyless
// impersonation of a service account, the administrator's own login stored
// by `invitectl auth login`, Application Default Credentials, or nothing
// for an emulator. Access tokens live in memory only; a stored login's
// refresh token lives in a file readable by its owner only.
package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"

	"github.com/invitectl/invitectl/pkg/scope"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/impersonate"
	"google.golang.org/api/option"
)

// Google's hosts that an AuthEndpoint replaces.
var googleAuthHosts = []string{"oauth2.googleapis.com", "iamcredentials.googleapis.com", "www.googleapis.com", "accounts.google.com"}

// Options are the credential flags and what the command needs.
type Options struct {
	// Credentials is a service-account key file (with Subject: domain-wide
	// delegation).
	Credentials string
	// Subject is the administrator the service account acts as.
	Subject string
	// ImpersonateServiceAccount is the service account to impersonate,
	// keylessly, from Application Default Credentials.
	ImpersonateServiceAccount string
	// Endpoint is the API endpoint override; without any credential (no
	// flag, no GOOGLE_APPLICATION_CREDENTIALS) it means no authentication:
	// an emulator.
	Endpoint string
	// AuthEndpoint, when set, replaces Google's token and IAM Credentials
	// hosts (an emulator or a test proxy).
	AuthEndpoint string
	// Login is the file of the stored login of the profile in use
	// (`invitectl auth login`); it is used when no credential is named, and
	// with an Endpoint only when it was made against an emulator.
	Login string
	// Scopes to ask for.
	Scopes []string
	// Transport carries token requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Getenv reads the environment (GOOGLE_APPLICATION_CREDENTIALS).
	Getenv func(string) string
	// Warn receives warnings such as a key file readable by others.
	Warn func(string)
}

// Identity says what will authenticate, for `auth check` and logs. It
// holds no secret.
type Identity struct {
	Mode      string `json:"mode"`                // none, key, impersonation, login, adc
	Principal string `json:"principal,omitempty"` // service account or user
	Subject   string `json:"subject,omitempty"`
	Source    string `json:"source,omitempty"` // key file, stored login or ADC file
	// ClientID is the OAuth client ID: a key's numeric client ID, which
	// domain-wide delegation is granted to, or a login's OAuth client.
	ClientID string   `json:"clientId,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
}

// Error is a setup problem with its fix; the CLI exits 4 on it. Its
// message is the problem alone, on one line; the fix comes from Hint, for
// a printer to put on a line of its own.
type Error struct {
	Problem string
	Fix     string
	Err     error
}

func (e *Error) Error() string { return e.Problem }

// Hint is the fix as it is printed under the problem ("fix: ..."), or ""
// when there is none.
func (e *Error) Hint() string {
	if e.Fix == "" {
		return ""
	}
	return "fix: " + e.Fix
}

func (e *Error) Unwrap() error { return e.Err }

// TokenSource builds the token source for opts; nil means no
// authentication. It fetches no token: the first API call does.
func TokenSource(ctx context.Context, o Options) (oauth2.TokenSource, Identity, error) {
	id := Identity{Subject: o.Subject, Scopes: o.Scopes}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: o.transport()})
	switch {
	case o.Credentials != "" && o.ImpersonateServiceAccount != "":
		return nil, id, &Error{Problem: "--credentials and --impersonate-service-account exclude each other", Fix: "keep one of them"}
	case o.Credentials != "":
		id.Mode, id.Source = "key", o.Credentials
		return keyFile(ctx, o, id)
	case o.ImpersonateServiceAccount != "":
		id.Mode, id.Principal = "impersonation", o.ImpersonateServiceAccount
		return impersonation(ctx, o, id)
	}
	if o.Login != "" {
		l, ok, err := LoadLogin(o.Login)
		if err != nil {
			return nil, id, &Error{Problem: "stored login: " + err.Error(), Fix: "run 'invitectl auth login' again, or 'invitectl auth logout'", Err: err}
		}
		// An emulator must not receive, nor make invitectl refresh, a
		// login of Google's.
		if ok && (o.Endpoint == "" || !l.googleToken()) {
			return login(ctx, o, l, id)
		}
	}
	switch {
	case o.Endpoint != "" && o.Getenv("GOOGLE_APPLICATION_CREDENTIALS") == "":
		// An emulator: no credential named anywhere, so none is sent.
		id.Mode, id.Subject, id.Scopes = "none", "", nil
		return nil, id, nil
	}
	id.Mode = "adc"
	return adc(ctx, o, id)
}

// transport sends token requests, to the AuthEndpoint when one is set.
func (o Options) transport() http.RoundTripper {
	base := o.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if o.AuthEndpoint == "" {
		return base
	}
	u, err := url.Parse(o.AuthEndpoint)
	if err != nil || u.Host == "" {
		return base
	}
	return redirect{to: u, base: base}
}

// redirect sends requests for Google's auth hosts to another base URL.
type redirect struct {
	to   *url.URL
	base http.RoundTripper
}

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	if isGoogleAuthHost(req.URL.Host) {
		req = req.Clone(req.Context())
		retarget(req.URL, r.to)
		req.Host = r.to.Host
	}
	return r.base.RoundTrip(req)
}

// keyFile is a service-account key used with domain-wide delegation: the
// JWT-bearer grant at the key's token_uri, acting as Subject.
func keyFile(ctx context.Context, o Options, id Identity) (oauth2.TokenSource, Identity, error) {
	b, err := readKey(o.Credentials, o.Warn)
	if err != nil {
		return nil, id, err
	}
	var kf struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		ClientID    string `json:"client_id"`
	}
	if err := json.Unmarshal(b, &kf); err != nil {
		return nil, id, &Error{Problem: fmt.Sprintf("key file %s is not JSON: %v", o.Credentials, err),
			Fix: "download a JSON key: IAM & Admin > Service accounts > the account > Keys > Add key > JSON"}
	}
	if kf.Type != "service_account" {
		return nil, id, &Error{Problem: fmt.Sprintf("key file %s holds %q credentials, not a service-account key", o.Credentials, kf.Type),
			Fix: "pass a service-account JSON key to --credentials; for your own login use Application Default Credentials (no credential flag)"}
	}
	id.Principal, id.ClientID = kf.ClientEmail, kf.ClientID
	if o.Subject == "" {
		return nil, id, missingSubject()
	}
	creds, err := google.CredentialsFromJSONWithTypeAndParams(ctx, b, google.ServiceAccount, google.CredentialsParams{Scopes: o.Scopes, Subject: o.Subject})
	if err != nil {
		return nil, id, &Error{Problem: fmt.Sprintf("key file %s: %v", o.Credentials, err), Fix: "download a new JSON key for the service account"}
	}
	return oauth2.ReuseTokenSource(nil, annotated{creds.TokenSource, id}), id, nil
}

func missingSubject() error {
	return &Error{Problem: "no --subject: a service account reaches the User Invitation API only by acting as an administrator (domain-wide delegation)",
		Fix: "pass --subject admin@your-domain (or set INVITECTL_SUBJECT)"}
}

// readKey reads a key file, warning when others may read it too.
func readKey(path string, warn func(string)) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &Error{Problem: fmt.Sprintf("cannot read key file: %v", err), Fix: "check the path given to --credentials (or INVITECTL_CREDENTIALS)", Err: err}
	}
	if fi.Mode().Perm()&0o077 != 0 && warn != nil {
		warn(fmt.Sprintf("key file %s is readable by group or others (mode %o): chmod 600 %s", path, fi.Mode().Perm(), path))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Problem: fmt.Sprintf("cannot read key file: %v", err), Fix: "check the file's permissions", Err: err}
	}
	return b, nil
}

// impersonation signs the delegation JWT through IAM Credentials signJwt,
// as the caller known to Application Default Credentials: no key file.
func impersonation(ctx context.Context, o Options, id Identity) (oauth2.TokenSource, Identity, error) {
	if o.Subject == "" {
		return nil, id, missingSubject()
	}
	base, adcID, err := findADC(ctx, o, []string{scope.CloudPlatform}, "", false)
	if err != nil {
		return nil, id, err
	}
	id.Source = adcID.Source
	client := &http.Client{Transport: &oauth2.Transport{Source: base, Base: o.transport()}}
	ts, err := impersonate.CredentialsTokenSource(ctx, impersonate.CredentialsConfig{
		TargetPrincipal: o.ImpersonateServiceAccount,
		Scopes:          o.Scopes,
		Subject:         o.Subject,
	}, option.WithHTTPClient(client))
	if err != nil {
		return nil, id, &Error{Problem: fmt.Sprintf("impersonate %s: %v", o.ImpersonateServiceAccount, err),
			Fix: "grant your identity roles/iam.serviceAccountTokenCreator on the service account"}
	}
	return oauth2.ReuseTokenSource(nil, annotated{refusals{ts}, id}), id, nil
}

// annotated says, with every token it fails to get, which credentials
// failed, so that Explain can name the fix (the client ID that domain-wide
// delegation must list, the login to renew).
type annotated struct {
	ts oauth2.TokenSource
	id Identity
}

func (a annotated) Token() (*oauth2.Token, error) {
	tok, err := a.ts.Token()
	if err != nil {
		return nil, &TokenFailure{Identity: a.id, Err: err}
	}
	return tok, nil
}

// TokenFailure is a token the credentials of Identity could not get.
type TokenFailure struct {
	Identity Identity
	Err      error
}

func (e *TokenFailure) Error() string { return e.Err.Error() }
func (e *TokenFailure) Unwrap() error { return e.Err }

// refusals makes the impersonate package's token failures, which are plain
// errors carrying the endpoint's status and body, into the
// *oauth2.RetrieveError every other mode returns, so that they are
// classified and explained alike.
type refusals struct{ ts oauth2.TokenSource }

var statusRE = regexp.MustCompile(`status code (\d+): (.*)$`)

func (r refusals) Token() (*oauth2.Token, error) {
	tok, err := r.ts.Token()
	if err == nil {
		return tok, nil
	}
	m := statusRE.FindStringSubmatch(err.Error())
	if m == nil {
		return nil, err
	}
	code, _ := strconv.Atoi(m[1])
	return nil, &oauth2.RetrieveError{Response: &http.Response{StatusCode: code, Status: m[1] + " " + http.StatusText(code)}, Body: []byte(m[2])}
}

// ownClient says why a login needs an OAuth client of the administrator's
// own project: gcloud's shared client is refused the invitations scope.
const ownClient = "an OAuth client of your own Google Cloud project, of type Desktop app: Google refuses gcloud's shared client the Cloud Identity scopes; see the README"

// noCredentialsFix is what to do when no credentials are found at all, in
// the order that works for most administrators.
const noCredentialsFix = "sign in as an administrator with 'invitectl auth login --client-secret CLIENT_SECRET.json' (" + ownClient +
	"), or pass --credentials KEY.json --subject ADMIN (a service account with domain-wide delegation), or try invitectl without Google with --sandbox"

// adc uses Application Default Credentials: a key file named by
// GOOGLE_APPLICATION_CREDENTIALS (a service account then acts as Subject),
// or gcloud's application-default login (the admin's own identity).
func adc(ctx context.Context, o Options, id Identity) (oauth2.TokenSource, Identity, error) {
	ts, adcID, err := findADC(ctx, o, o.Scopes, o.Subject, true)
	if err != nil {
		return nil, id, err
	}
	id.Source, id.Principal = adcID.Source, adcID.Principal
	return annotated{ts, id}, id, nil
}

// findADC reads the ADC file. A service account found there acts as subject;
// delegate says one is required (it is not for impersonation's caller).
func findADC(ctx context.Context, o Options, scopes []string, subject string, delegate bool) (oauth2.TokenSource, Identity, error) {
	var id Identity
	path := o.Getenv("GOOGLE_APPLICATION_CREDENTIALS")
	if path == "" {
		if home, err := os.UserHomeDir(); err == nil {
			path = home + "/.config/gcloud/application_default_credentials.json"
		}
	}
	b, err := os.ReadFile(path)
	switch {
	case err != nil && !delegate:
		// Impersonation's caller needs only the cloud-platform scope,
		// which gcloud's own login may ask for.
		return nil, id, &Error{Problem: "--impersonate-service-account signs as your own identity, from Application Default Credentials, and there are none (" + err.Error() + ")",
			Fix: "run 'gcloud auth application-default login', or point GOOGLE_APPLICATION_CREDENTIALS at a key of an identity that may sign for the service account", Err: err}
	case err != nil:
		return nil, id, &Error{Problem: "no credentials: no credential flag, no stored login, no --endpoint, and no Application Default Credentials (" + err.Error() + ")",
			Fix: noCredentialsFix, Err: err}
	}
	id.Source = path
	var f struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
	}
	_ = json.Unmarshal(b, &f)
	id.Principal = f.ClientEmail
	if f.Type == "service_account" && subject == "" && delegate {
		return nil, id, missingSubject()
	}
	creds, err := google.CredentialsFromJSONWithTypeAndParams(ctx, b, google.CredentialsType(f.Type), google.CredentialsParams{Scopes: scopes, Subject: subject})
	if err != nil {
		return nil, id, &Error{Problem: fmt.Sprintf("Application Default Credentials %s: %v", path, err),
			Fix: "sign in with 'invitectl auth login --client-secret CLIENT_SECRET.json' instead (" + ownClient + "), or point GOOGLE_APPLICATION_CREDENTIALS at a valid service-account key and pass --subject ADMIN", Err: err}
	}
	if id.Principal == "" {
		id.Principal = "the account of 'gcloud auth application-default login'"
	}
	return oauth2.ReuseTokenSource(nil, creds.TokenSource), id, nil
}
