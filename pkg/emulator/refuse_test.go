package emulator_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
)

func loadTestWorld(t *testing.T, name string) emulator.World {
	t.Helper()
	w, err := emulator.LoadWorld("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// call makes one method of the port for an address.
func callMethod(ctx context.Context, c invitations.Client, method, email string) error {
	var err error
	switch method {
	case "isInvitableUser":
		_, err = c.IsInvitable(ctx, email)
	case "get":
		_, err = c.Get(ctx, email)
	case "send":
		_, err = c.Send(ctx, email)
	case "cancel":
		_, err = c.Cancel(ctx, email)
	}
	return err
}

// TestRefusals: one address refuses one method with Google's envelope for
// that code (a 403 without an ErrorInfo reason, like a bare permission
// denial), while every other call works; a refused call changes nothing and
// emails no one (issue 8 item 8).
func TestRefusals(t *testing.T) {
	cases := []struct {
		email, method string
		code          int
		status, msg   string
		kind          invitations.Kind
	}{
		{"send403@example.com", "send", 403, "PERMISSION_DENIED", "The caller does not have permission", invitations.KindDenied},
		{"send400@example.com", "send", 400, "INVALID_ARGUMENT", "Request contains an invalid argument.", invitations.KindInvalid},
		{"check404@example.com", "isInvitableUser", 404, "NOT_FOUND", "Requested entity was not found.", invitations.KindNotFound},
		{"check403@example.com", "isInvitableUser", 403, "PERMISSION_DENIED", "The caller does not have permission", invitations.KindDenied},
		{"get400@example.com", "get", 400, "INVALID_ARGUMENT", "Request contains an invalid argument.", invitations.KindInvalid},
		{"cancel403@example.com", "cancel", 403, "PERMISSION_DENIED", "The caller does not have permission", invitations.KindDenied},
	}
	for _, tc := range cases {
		t.Run(tc.email, func(t *testing.T) {
			srv, base, c := start(t, loadTestWorld(t, "refuse.json"), emulator.Config{}, invitations.V1)
			ctx := context.Background()
			before, _ := srv.State().Account(tc.email)
			for range 2 { // a refusal is not used up
				e := apiErr(t, callMethod(ctx, c, tc.method, tc.email))
				if e.HTTPCode != tc.code || e.Status != tc.status || e.Message != tc.msg || e.Reason != "" || e.Kind != tc.kind {
					t.Fatalf("%s: %+v, want %d %s %q with no reason (kind %v)", tc.method, e, tc.code, tc.status, tc.msg, tc.kind)
				}
			}
			after, _ := srv.State().Account(tc.email)
			if after.Refused != 2 {
				t.Errorf("refused counter %d, want 2", after.Refused)
			}
			after.Refused = 0
			if after != before {
				t.Errorf("a refused call changed %+v into %+v", before, after)
			}
			// The envelope has no details at all.
			method, path := http.MethodGet, "/v1/customers/"+customer+"/userinvitations/"+tc.email
			switch tc.method {
			case "isInvitableUser":
				path += ":isInvitableUser"
			case "send", "cancel":
				method, path = http.MethodPost, path+":"+tc.method
			}
			code, body := getJSON(t, base+path, method)
			if e, _ := body["error"].(map[string]any); code != tc.code || e["details"] != nil || e["message"] != tc.msg {
				t.Errorf("raw %s: HTTP %d %v", tc.method, code, body)
			}
			// Every other method works for this address, and every method
			// for another one.
			for _, m := range []string{"isInvitableUser", "get", "send", "cancel"} {
				if m == tc.method {
					continue
				}
				if err := callMethod(ctx, c, m, tc.email); err != nil && invitations.KindOf(err) != invitations.KindPrecondition && invitations.KindOf(err) != invitations.KindNotFound {
					t.Errorf("%s of the same address: %v", m, err)
				}
			}
			if err := callMethod(ctx, c, tc.method, "ok@example.com"); err != nil && invitations.KindOf(err) != invitations.KindPrecondition {
				t.Errorf("%s of another address: %v", tc.method, err)
			}
		})
	}
}

func TestRefusedSendEmailsNoOne(t *testing.T) {
	srv, _, c := start(t, loadTestWorld(t, "refuse.json"), emulator.Config{}, invitations.V1)
	if _, err := c.Send(context.Background(), "send403@example.com"); !invitations.IsDenied(err) {
		t.Fatalf("send: %v", err)
	}
	a, _ := srv.State().Account("send403@example.com")
	if a.Emails != 0 || a.Mails != 0 || a.State != emulator.StateNotYetSent || a.Sends != 0 {
		t.Fatalf("after a refused send: %+v", a)
	}
	if ok, err := c.IsInvitable(context.Background(), "send403@example.com"); !ok || err != nil {
		t.Fatalf("isInvitableUser of a send-refusing address = %v, %v; want true", ok, err)
	}
}
