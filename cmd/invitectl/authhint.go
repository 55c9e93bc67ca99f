package main

import (
	"errors"

	"github.com/invitectl/invitectl/pkg/invitations"
)

// authHint says how to fix the common authentication failures.
func authHint(err error) string {
	var e *invitations.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch {
	case e.Reason == "SERVICE_DISABLED":
		return "Enable the Cloud Identity API in the project of your credentials (APIs & Services > Library > Cloud Identity API)."
	case e.Reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
		return "The token lacks the scope " + invitations.Scope + ": authorise it for the service account's client ID in the Admin console (Security > API controls > Domain-wide delegation)."
	case e.HTTPCode == 403:
		return "Check --customer (Admin console > Account > Account settings) and that the acting user is an administrator of that customer."
	case e.HTTPCode == 401:
		return "The credentials were refused: check the key file or run 'gcloud auth application-default login' again."
	}
	return ""
}
