package auth

import (
	"errors"
	"strings"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/scope"
)

// WithIdentity attaches the credentials a command used to its error, so
// that Explain can tell a request that carried no token from one whose
// token was refused. It returns nil for nil.
func WithIdentity(err error, id Identity) error {
	if err == nil {
		return nil
	}
	return &identified{id: id, err: err}
}

type identified struct {
	id  Identity
	err error
}

func (e *identified) Error() string { return e.err.Error() }
func (e *identified) Unwrap() error { return e.err }

// identityOf is the credentials an error says it was made with: those of
// a failed token, else those WithIdentity attached.
func identityOf(err error) Identity {
	var tf *TokenFailure
	if errors.As(err, &tf) {
		return tf.Identity
	}
	var w *identified
	if errors.As(err, &w) {
		return w.id
	}
	return Identity{}
}

// Explain says in plain words what an authentication or authorisation
// failure means and how to fix it, or "" when it has nothing to add.
func Explain(err error) string {
	var setup *Error
	if errors.As(err, &setup) {
		return "" // its Hint is the fix
	}
	id := identityOf(err)
	if code, desc, ok := invitations.TokenError(err); ok {
		return explainToken(code, desc, id)
	}
	var e *invitations.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch {
	case e.Reason == "SERVICE_DISABLED":
		return "The Cloud Identity API is not enabled in the Google Cloud project of these credentials: enable it (APIs & Services > Library > Cloud Identity API), wait a minute, retry."
	case e.Reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT" && id.Mode == "login":
		return "Your stored login lacks the scope this command needs (" + scope.Invitations + " to send or cancel, " + scope.InvitationsReadOnly + " to read): run 'invitectl auth login' again and allow every access it asks for."
	case e.Reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
		return "The access token lacks the scope this command needs (" + scope.Invitations + " to send or cancel, " + scope.InvitationsReadOnly + " to read). With domain-wide delegation, authorise both for " + clientIDOf(id) + " in the Admin console: Security > Access and data control > API controls > Domain-wide delegation."
	case e.HTTPCode == 401 && id.Mode == "none":
		return "No credentials were used: with --endpoint (or INVITECTL_ENDPOINT) and no credential flag, invitectl sends no token, as an emulator wants none; this server asks for one. Pass --credentials KEY.json --subject ADMIN, sign in with 'invitectl auth login', or, for an emulator that issues tokens, set INVITECTL_AUTH_ENDPOINT to it."
	case e.HTTPCode == 401 && id.Mode == "login":
		return "The access token of your stored login was refused: run 'invitectl auth login' again."
	case e.HTTPCode == 401 && id.Mode == "key":
		return "The access token was refused (expired or revoked). Run the command again; if it persists, check that the key was not deleted or disabled (IAM & Admin > Service accounts > the account > Keys)."
	case e.HTTPCode == 401:
		return "The access token was refused (expired or revoked). Run the command again; if it persists, sign in with 'invitectl auth login --client-secret CLIENT_SECRET.json' (" + ownClient + "), or pass --credentials KEY.json --subject ADMIN."
	case e.HTTPCode == 403 && id.Mode == "login":
		return "Permission denied: check --customer (Admin console > Account > Account settings > Customer ID) and that the account you signed in with is an administrator of that customer with the right to manage users."
	case e.HTTPCode == 403:
		return "Permission denied: check --customer (Admin console > Account > Account settings > Customer ID) and that --subject (or your own login) is an administrator of that customer with the right to manage users."
	}
	return ""
}

// clientIDOf names the client ID that domain-wide delegation must list:
// the key's own number when it is known.
func clientIDOf(id Identity) string {
	if id.Mode == "key" && id.ClientID != "" {
		return "client ID " + id.ClientID + " (the service account's numeric OAuth2 client ID)"
	}
	return "the service account's client ID (its numeric OAuth2 client ID: IAM & Admin > Service accounts > the account > Details > Unique ID)"
}

func explainToken(code, desc string, id Identity) string {
	d := strings.ToLower(desc)
	switch {
	case id.Mode == "login" && code == "invalid_grant":
		return "Your stored login was refused (" + desc + "): it was revoked, its OAuth client was deleted or its secret reset, or it expired (the logins of an app whose consent screen is External and in Testing last 7 days). Run 'invitectl auth login' again."
	case id.Mode == "login" && (code == "invalid_client" || code == "unauthorized_client"):
		return "The OAuth client of your stored login was refused (deleted, or its secret reset): run 'invitectl auth login --client-secret FILE' again with a current client file."
	case code == "unauthorized_client" || code == "invalid_scope" || code == "access_denied":
		return "Domain-wide delegation is not set up for these scopes: in the Admin console, Security > Access and data control > API controls > Domain-wide delegation, add " + clientIDOf(id) + " with the scopes " +
			scope.Invitations + "," + scope.InvitationsReadOnly + " (and " + scope.SheetsReadOnly + " to read Google Sheets, " + scope.DriveFile + " to write results to them). Changes can take a few minutes."
	case code == "invalid_grant" && (strings.Contains(d, "email") || strings.Contains(d, "user id") || strings.Contains(d, "account")):
		return "The token endpoint does not know --subject: it must be the exact address of an existing user (an administrator) of your domain."
	case code == "invalid_grant" && strings.Contains(d, "signature"):
		return "The key was refused: it may have been deleted or disabled. Create a new JSON key for the service account."
	case code == "invalid_grant" && (strings.Contains(d, "time") || strings.Contains(d, "exp") || strings.Contains(d, "iat")):
		return "The token request's times were refused: check this machine's clock."
	case code == "invalid_grant":
		return "The token endpoint refused the grant: check the key, the subject and the clock."
	case strings.HasPrefix(code, "403"):
		return "Your identity may not sign for the service account: grant it roles/iam.serviceAccountTokenCreator on that service account (and check its address)."
	}
	return ""
}
