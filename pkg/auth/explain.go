package auth

import (
	"errors"
	"strings"

	"github.com/invitectl/invitectl/pkg/invitations"
)

// Explain says in plain words what an authentication or authorisation
// failure means and how to fix it, or "" when it has nothing to add.
func Explain(err error) string {
	var setup *Error
	if errors.As(err, &setup) {
		return "" // its message carries the fix
	}
	if code, desc, ok := invitations.TokenError(err); ok {
		return explainToken(code, desc)
	}
	var e *invitations.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch {
	case e.Reason == "SERVICE_DISABLED":
		return "The Cloud Identity API is not enabled in the Google Cloud project of these credentials: enable it (APIs & Services > Library > Cloud Identity API), wait a minute, retry."
	case e.Reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
		return "The access token lacks the scope this command needs (" + ScopeInvitations + " to send or cancel, " + ScopeInvitationsReadOnly + " to read). With domain-wide delegation, authorise both for the service account's client ID in the Admin console: Security > Access and data control > API controls > Domain-wide delegation."
	case e.HTTPCode == 401:
		return "The access token was refused (expired or revoked). Run the command again; if it persists, check the key (not deleted?) or run 'gcloud auth application-default login' again."
	case e.HTTPCode == 403:
		return "Permission denied: check --customer (Admin console > Account > Account settings > Customer ID) and that --subject (or your own login) is an administrator of that customer with the right to manage users."
	}
	return ""
}

func explainToken(code, desc string) string {
	d := strings.ToLower(desc)
	switch {
	case code == "unauthorized_client" || code == "invalid_scope" || code == "access_denied":
		return "Domain-wide delegation is not set up for these scopes: in the Admin console, Security > Access and data control > API controls > Domain-wide delegation, add the service account's client ID (its numeric OAuth2 client ID) with the scopes " +
			ScopeInvitations + "," + ScopeInvitationsReadOnly + " (and " + ScopeSheetsReadOnly + " to read Google Sheets, " + ScopeDriveFile + " to write results to them). Changes can take a few minutes."
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
