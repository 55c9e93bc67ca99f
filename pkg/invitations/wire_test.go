package invitations

import (
	"reflect"
	"testing"

	v1 "google.golang.org/api/cloudidentity/v1"
	v1beta1 "google.golang.org/api/cloudidentity/v1beta1"
)

// The field-by-field conversion of invitations and pages must give exactly
// what the JSON round trip (convert) gives.
func TestWireFieldsMatchConvert(t *testing.T) {
	invs := []v1.UserInvitation{
		{},
		{Name: "customers/C01/userinvitations/a@example.com", State: "INVITED", MailsSentCount: 3, UpdateTime: "2026-11-24T12:00:00.123456Z"},
		{Name: "customers/C01/userinvitations/B+x@Example.com", State: "NOT_YET_SENT"},
		{Name: "customers/C01/userinvitations/c@example.com", State: "SOMETHING_NEW", MailsSentCount: -1, UpdateTime: "x"},
	}
	page := &v1.ListUserInvitationsResponse{NextPageToken: "tok"}
	betaPage := &v1beta1.ListUserInvitationsResponse{}
	for i := range invs {
		u := invs[i]
		want, err := convert[wireInvitation](&u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := wireFields(u.Name, u.State, u.UpdateTime, u.MailsSentCount); got != want {
			t.Errorf("v1 %+v: got %+v, want %+v", u, got, want)
		}
		b := v1beta1.UserInvitation{Name: u.Name, State: u.State, MailsSentCount: u.MailsSentCount, UpdateTime: u.UpdateTime}
		if want, _ := convert[wireInvitation](&b, nil); wireFields(b.Name, b.State, b.UpdateTime, b.MailsSentCount) != want {
			t.Errorf("v1beta1 %+v: want %+v", b, want)
		}
		page.UserInvitations = append(page.UserInvitations, &u)
		betaPage.UserInvitations = append(betaPage.UserInvitations, &b)
	}
	page.UserInvitations = append(page.UserInvitations, nil)
	want, err := convert[wirePage](page, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := wirePage{Next: page.NextPageToken, Items: make([]wireInvitation, len(page.UserInvitations))}
	for i, u := range page.UserInvitations {
		if u != nil {
			got.Items[i] = wireFields(u.Name, u.State, u.UpdateTime, u.MailsSentCount)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("page: got %+v, want %+v", got, want)
	}
}

func TestInternState(t *testing.T) {
	for _, st := range States {
		if got := internState(string([]byte(st))); got != st {
			t.Errorf("%s: got %q", st, got)
		}
	}
	if got := internState("invited"); got != State("invited") {
		t.Errorf("unknown state changed: %q", got)
	}
}
