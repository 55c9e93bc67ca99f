package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
)

const customer = "C03abc123"

// start serves world over a real socket and returns the server, its URL and
// an adapter (the generated client underneath) pointed at it.
func start(t *testing.T, world emulator.World, cfg emulator.Config, version string) (*emulator.Server, string, *invitations.Adapter) {
	t.Helper()
	srv, err := emulator.New(world, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := invitations.New(context.Background(), invitations.Config{
		Customer: world.Customer, APIVersion: version, Endpoint: hs.URL, CallTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv, hs.URL, c
}

func smallWorld() emulator.World {
	return emulator.World{Customer: customer, Users: []emulator.User{
		{Email: "nys@example.com"},
		{Email: "invited@example.com", State: "INVITED", Mails: 2},
		{Email: "accepted@example.com", State: "ACCEPTED", Mails: 1},
		{Email: "declined@example.com", State: "DECLINED", Mails: 1},
		{Email: "recent@example.com", Recent: true},
		{Email: "managed@example.com", Kind: "managed"},
		{Email: "recent-invited@example.com", State: "INVITED", Recent: true, Mails: 1},
	}}
}

// bigWorld has n unmanaged accounts spread over every state, with recent and
// managed ones mixed in, and update times out of email order.
func bigWorld(n int) emulator.World {
	w := emulator.World{Customer: customer}
	states := []string{"NOT_YET_SENT", "INVITED", "ACCEPTED", "DECLINED", "INVITED", "NOT_YET_SENT"}
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		u := emulator.User{
			Email:      fmt.Sprintf("user%05d@example.com", (i*7919)%n),
			State:      states[i%len(states)],
			UpdateTime: base.Add(time.Duration((i*104729)%(n/3+1)) * time.Second), // ties included
			Recent:     i%17 == 0,
		}
		if i%23 == 0 {
			u.Kind = "managed"
		}
		if u.State != "NOT_YET_SENT" {
			u.Mails = int64(i%3 + 1)
		}
		w.Users = append(w.Users, u)
	}
	return w
}

func getJSON(t *testing.T, rawURL string, method string) (int, map[string]any) {
	t.Helper()
	return requestJSON(t, method, rawURL, "{}")
}

// requestJSON makes one request and decodes its JSON answer.
func requestJSON(t *testing.T, method, rawURL, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, rawURL, b, err)
	}
	return resp.StatusCode, m
}

func apiErr(t *testing.T, err error) *invitations.Error {
	t.Helper()
	return errAs[*invitations.Error](t, err)
}

// errAs finds an error of type E in err's chain, or fails the test.
func errAs[E error](t *testing.T, err error) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a %T", err, err, e)
	}
	return e
}

func TestListPagesEveryOrderAndFilter(t *testing.T) {
	world := bigWorld(1300)
	_, _, c := start(t, world, emulator.Config{}, invitations.V1)
	type row struct {
		email string
		state string
		t     time.Time
	}
	var visible []row
	for _, u := range world.Users {
		if u.Kind != "managed" && !u.Recent {
			visible = append(visible, row{u.Email, u.State, u.UpdateTime})
		}
	}
	filters := [][]invitations.State{
		nil,
		{invitations.StateInvited},
		{invitations.StateNotYetSent, invitations.StateDeclined},
	}
	orders := []string{"email", "email desc", "update_time", "update_time desc"}
	for _, states := range filters {
		for _, o := range orders {
			for _, size := range []int{7, 200} {
				name := fmt.Sprintf("%v/%s/%d", states, o, size)
				t.Run(name, func(t *testing.T) {
					order, err := invitations.ParseOrder(o)
					if err != nil {
						t.Fatal(err)
					}
					var want []string
					rows := slices.Clone(visible)
					sort.Slice(rows, func(i, j int) bool {
						a, b := rows[i], rows[j]
						if order.Field == "update_time" && !a.t.Equal(b.t) {
							return a.t.Before(b.t) != order.Desc
						}
						return (a.email < b.email) != order.Desc
					})
					for _, r := range rows {
						if len(states) == 0 || slices.Contains(states, invitations.State(r.state)) {
							want = append(want, r.email)
						}
					}
					var got []string
					pages := 0
					err = c.List(context.Background(), invitations.ListOptions{States: states, Order: order, PageSize: size}, func(p []invitations.Invitation) error {
						pages++
						if len(p) > size {
							t.Errorf("page %d has %d items, page size %d", pages, len(p), size)
						}
						for _, inv := range p {
							got = append(got, inv.Email)
						}
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("listed %d addresses, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
					}
					if wantPages := (len(want) + size - 1) / size; pages != wantPages {
						t.Errorf("%d pages, want %d", pages, wantPages)
					}
				})
			}
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestListPageSizeDefaultsAndCap(t *testing.T) {
	_, base, _ := start(t, bigWorld(1300), emulator.Config{}, invitations.V1)
	for _, tc := range []struct {
		size string
		want int
	}{{"", 100}, {"0", 100}, {"-5", 100}, {"150", 150}, {"200", 200}, {"1000", 200}} {
		u := base + "/v1/customers/" + customer + "/userinvitations?pageSize=" + tc.size
		code, body := getJSON(t, u, http.MethodGet)
		items, _ := body["userInvitations"].([]any)
		if code != 200 || len(items) != tc.want {
			t.Errorf("pageSize=%q: HTTP %d, %d items, want %d", tc.size, code, len(items), tc.want)
		}
	}
}

func TestListMalformed(t *testing.T) {
	_, base, c := start(t, bigWorld(300), emulator.Config{}, invitations.V1)
	list := base + "/v1/customers/" + customer + "/userinvitations"
	_, first := getJSON(t, list+"?pageSize=10&filter="+url.QueryEscape("state=='invited'"), http.MethodGet)
	token, _ := first["nextPageToken"].(string)
	if token == "" {
		t.Fatal("first page has no nextPageToken")
	}
	cases := []struct{ query, wantMsg string }{
		{"filter=" + url.QueryEscape("email=='a@example.com'"), "unknown field"},
		{"filter=" + url.QueryEscape("state=='pending'"), "unknown state"},
		{"filter=" + url.QueryEscape("state~'invited'"), "invalid filter"},
		{"orderBy=name", "unknown field"},
		{"orderBy=" + url.QueryEscape("email sideways"), "unknown direction"},
		{"pageSize=ten", "not an integer"},
		{"pageToken=garbage", "invalid page token"},
		{"pageToken=" + url.QueryEscape(token), "another filter or orderBy"},
		{"pageToken=" + url.QueryEscape(token) + "&filter=" + url.QueryEscape("state=='invited'") + "&orderBy=update_time", "another filter or orderBy"},
	}
	for _, tc := range cases {
		code, body := getJSON(t, list+"?"+tc.query, http.MethodGet)
		e, _ := body["error"].(map[string]any)
		if code != 400 || e["status"] != "INVALID_ARGUMENT" || !strings.Contains(fmt.Sprint(e["message"]), tc.wantMsg) {
			t.Errorf("%s: HTTP %d %v, want 400 INVALID_ARGUMENT mentioning %q", tc.query, code, body, tc.wantMsg)
		}
	}
	// The same token with the same filter, spelled differently, continues.
	code, body := getJSON(t, list+"?pageSize=10&pageToken="+url.QueryEscape(token)+"&filter="+url.QueryEscape(`state == "INVITED"`), http.MethodGet)
	if code != 200 {
		t.Errorf("continuing with an equivalent filter: HTTP %d %v", code, body)
	}
	// Through the generated client the same error is classified as invalid.
	err := c.List(context.Background(), invitations.ListOptions{Order: invitations.Order{Field: "name"}}, func([]invitations.Invitation) error { return nil })
	if e := apiErr(t, err); e.Kind != invitations.KindInvalid || e.HTTPCode != 400 || e.Status != "INVALID_ARGUMENT" {
		t.Errorf("bad order through the client: %+v", e)
	}
}

func TestFilterSpellings(t *testing.T) {
	_, base, _ := start(t, smallWorld(), emulator.Config{}, invitations.V1)
	list := base + "/v1/customers/" + customer + "/userinvitations?filter="
	for _, tc := range []struct {
		filter string
		want   int
	}{
		{"state=='invited'", 1},
		{"state=='INVITED'", 1},
		{"state == 'not_yet_sent'", 1},
		{"state=='invited' || state=='declined'", 2},
		{"state!='accepted'", 3},
		{"state!='accepted'||state!='invited'", 4},
	} {
		code, body := getJSON(t, list+url.QueryEscape(tc.filter), http.MethodGet)
		items, _ := body["userInvitations"].([]any)
		if code != 200 || len(items) != tc.want {
			t.Errorf("filter %q: HTTP %d, %d items, want %d (%v)", tc.filter, code, len(items), tc.want, body)
		}
	}
}

func TestVisibilityGap(t *testing.T) {
	srv, _, c := start(t, smallWorld(), emulator.Config{}, invitations.V1)
	ctx := context.Background()
	if _, err := c.Get(ctx, "recent@example.com"); !invitations.IsNotFound(err) {
		t.Fatalf("get of a recent account: %v, want not found", err)
	}
	if ok, err := c.IsInvitable(ctx, "recent@example.com"); err != nil || !ok {
		t.Fatalf("isInvitableUser of a recent account = %v, %v; want true", ok, err)
	}
	listed := listAll(t, c)
	if slices.Contains(listed, "recent@example.com") || slices.Contains(listed, "managed@example.com") {
		t.Fatalf("list shows invisible accounts: %v", listed)
	}
	if _, err := c.Cancel(ctx, "recent-invited@example.com"); !invitations.IsPrecondition(err) {
		t.Fatalf("cancel of an invisible invitation: %v, want a precondition failure", err)
	}
	res, err := c.Send(ctx, "recent@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if res.Invitation == nil || res.Invitation.State != invitations.StateInvited || res.Invitation.MailsSentCount != 1 {
		t.Fatalf("send result %+v", res)
	}
	inv, err := c.Get(ctx, "Recent@Example.com")
	if err != nil || inv.State != invitations.StateInvited {
		t.Fatalf("get after send = %+v, %v", inv, err)
	}
	if !slices.Contains(listAll(t, c), "recent@example.com") {
		t.Fatal("list does not show the account after a send created its invitation")
	}
	if a, _ := srv.State().Account("recent@example.com"); !a.Visible || a.Sends != 1 {
		t.Fatalf("state %+v", a)
	}
}

func listAll(t *testing.T, c invitations.Client) []string {
	t.Helper()
	var out []string
	err := c.List(context.Background(), invitations.ListOptions{}, func(p []invitations.Invitation) error {
		for _, inv := range p {
			out = append(out, inv.Email)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMethodsOnEveryState(t *testing.T) {
	type want struct {
		invitable bool
		get       invitations.Kind // KindUnknown = found
		send      invitations.Kind // KindUnknown = success
		cancel    invitations.Kind
	}
	const ok = invitations.KindUnknown
	cases := map[string]want{
		"nys@example.com":            {true, ok, ok, invitations.KindPrecondition},
		"invited@example.com":        {true, ok, ok, ok},
		"accepted@example.com":       {false, ok, invitations.KindPrecondition, invitations.KindPrecondition},
		"declined@example.com":       {true, ok, ok, invitations.KindPrecondition},
		"recent@example.com":         {true, invitations.KindNotFound, ok, invitations.KindPrecondition},
		"managed@example.com":        {false, invitations.KindNotFound, invitations.KindPrecondition, invitations.KindPrecondition},
		"nobody@example.com":         {false, invitations.KindNotFound, invitations.KindPrecondition, invitations.KindPrecondition},
		"recent-invited@example.com": {true, invitations.KindNotFound, ok, invitations.KindPrecondition},
	}
	kind := func(err error) invitations.Kind {
		if err == nil {
			return ok
		}
		return invitations.KindOf(err)
	}
	for _, version := range []string{invitations.V1, invitations.V1Beta1} {
		for email, w := range cases {
			t.Run(version+"/"+email, func(t *testing.T) {
				srv, _, c := start(t, smallWorld(), emulator.Config{}, version)
				ctx := context.Background()
				before, _ := srv.State().Account(email)
				got, err := c.IsInvitable(ctx, email)
				if err != nil || got != w.invitable {
					t.Errorf("isInvitableUser = %v, %v; want %v", got, err, w.invitable)
				}
				_, err = c.Get(ctx, email)
				if kind(err) != w.get {
					t.Errorf("get: %v, want kind %v", err, w.get)
				}
				// Cancel first: it must not change anything when refused.
				_, err = c.Cancel(ctx, email)
				if kind(err) != w.cancel {
					t.Errorf("cancel: %v, want kind %v", err, w.cancel)
				}
				afterCancel, _ := srv.State().Account(email)
				if w.cancel == ok && (afterCancel.State != "NOT_YET_SENT" || afterCancel.Cancels != 1) {
					t.Errorf("after cancel: %+v", afterCancel)
				}
				if w.cancel != ok && afterCancel != before {
					t.Errorf("refused cancel changed %+v into %+v", before, afterCancel)
				}
				res, err := c.Send(ctx, email)
				if kind(err) != w.send {
					t.Errorf("send: %v, want kind %v", err, w.send)
				}
				after, _ := srv.State().Account(email)
				if w.send == ok {
					if after.State != "INVITED" || after.Mails != before.Mails+1 || after.Sends != 1 || !after.Visible {
						t.Errorf("after send: %+v (before %+v)", after, before)
					}
					if res.Invitation == nil || res.Invitation.MailsSentCount != after.Mails || !strings.HasPrefix(res.Operation, "operations/") {
						t.Errorf("send result %+v", res)
					}
				} else if after != afterCancel {
					t.Errorf("refused send changed %+v into %+v", afterCancel, after)
				}
			})
		}
	}
}

func TestWireFormat(t *testing.T) {
	_, base, _ := start(t, smallWorld(), emulator.Config{}, invitations.V1)
	inv := base + "/v1/customers/" + customer + "/userinvitations/"
	code, body := getJSON(t, inv+"nys@example.com", http.MethodGet)
	if code != 200 || body["name"] != "customers/"+customer+"/userinvitations/nys@example.com" || body["state"] != "NOT_YET_SENT" {
		t.Errorf("get: %d %v", code, body)
	}
	if _, present := body["mailsSentCount"]; present {
		t.Errorf("mailsSentCount 0 is written: %v", body)
	}
	if ts, _ := body["updateTime"].(string); !strings.HasSuffix(ts, "Z") {
		t.Errorf("updateTime %q is not RFC 3339 UTC", ts)
	} else if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		t.Error(err)
	}
	_, body = getJSON(t, inv+"invited@example.com", http.MethodGet)
	if body["mailsSentCount"] != "2" {
		t.Errorf("mailsSentCount is %#v, want the string \"2\"", body["mailsSentCount"])
	}
	_, body = getJSON(t, inv+"accepted@example.com:isInvitableUser", http.MethodGet)
	if len(body) != 0 {
		t.Errorf("isInvitableUser false is %v, want {}", body)
	}
	_, body = getJSON(t, inv+"nys@example.com:isInvitableUser", http.MethodGet)
	if body["isInvitableUser"] != true {
		t.Errorf("isInvitableUser true is %v", body)
	}
	code, body = getJSON(t, inv+"nys@example.com:send", http.MethodPost)
	resp, _ := body["response"].(map[string]any)
	if code != 200 || body["done"] != true || !strings.HasPrefix(fmt.Sprint(body["name"]), "operations/") ||
		resp["@type"] != "type.googleapis.com/google.apps.cloudidentity.v1.UserInvitation" || resp["mailsSentCount"] != "1" {
		t.Errorf("send: %d %v", code, body)
	}
	code, body = getJSON(t, base+"/v1beta1/customers/"+customer+"/userinvitations/nys@example.com:send", http.MethodPost)
	resp, _ = body["response"].(map[string]any)
	if code != 200 || resp["@type"] != "type.googleapis.com/google.apps.cloudidentity.v1beta1.UserInvitation" {
		t.Errorf("v1beta1 send: %d %v", code, body)
	}

	errCases := []struct {
		method, path string
		code         int
		status       string
	}{
		{http.MethodGet, "/v1/customers/" + customer + "/userinvitations/nys@example.com:send", 405, "INVALID_ARGUMENT"},
		{http.MethodPost, "/v1/customers/" + customer + "/userinvitations/nys@example.com", 405, "INVALID_ARGUMENT"},
		{http.MethodGet, "/v1/customers/" + customer + "/userinvitations/nys@example.com:frobnicate", 404, "NOT_FOUND"},
		{http.MethodGet, "/v1/customers/" + customer + "/devices", 404, "NOT_FOUND"},
		{http.MethodGet, "/v2/anything", 404, "NOT_FOUND"},
		{http.MethodGet, "/v1/customers/C999/userinvitations/nys@example.com", 403, "PERMISSION_DENIED"},
		{http.MethodGet, "/v1/customers/" + customer + "/userinvitations/not-an-address", 400, "INVALID_ARGUMENT"},
		{http.MethodPost, "/v1/customers/" + customer + "/userinvitations/accepted@example.com:send", 400, "FAILED_PRECONDITION"},
	}
	for _, tc := range errCases {
		code, body := getJSON(t, base+tc.path, tc.method)
		e, _ := body["error"].(map[string]any)
		if code != tc.code || e["status"] != tc.status || e["code"] != float64(tc.code) || e["message"] == "" {
			t.Errorf("%s %s: %d %v, want %d %s in Google's envelope", tc.method, tc.path, code, body, tc.code, tc.status)
		}
	}
}

func TestCustomerMismatchIsAuth(t *testing.T) {
	srv, err := emulator.New(smallWorld(), emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c, err := invitations.New(context.Background(), invitations.Config{Customer: "C0other1", Endpoint: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	// A bare 403 (no ErrorInfo reason): the port calls it denied, and only a
	// probe tells a credential failure from one address's refusal.
	_, err = c.IsInvitable(context.Background(), "nys@example.com")
	if e := apiErr(t, err); e.Kind != invitations.KindDenied || e.HTTPCode != 403 || e.Status != "PERMISSION_DENIED" {
		t.Fatalf("foreign customer: %+v", e)
	}
}

func TestQuota(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	srv, _, c := start(t, smallWorld(), emulator.Config{Quota: emulator.Quota{ReadsPerMinute: 3, WritesPerMinute: 2}, Now: clock}, invitations.V1)
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.IsInvitable(ctx, "nys@example.com"); err != nil {
			t.Fatalf("read %d within quota: %v", i, err)
		}
	}
	_, err := c.IsInvitable(ctx, "nys@example.com")
	e := apiErr(t, err)
	if !invitations.IsQuota(err) || !invitations.IsRetryable(err) || e.HTTPCode != 429 || e.Status != "RESOURCE_EXHAUSTED" || e.Reason != "RATE_LIMIT_EXCEEDED" {
		t.Fatalf("read over quota: %+v", e)
	}
	// Writes have their own bucket.
	for i := range 2 {
		if _, err := c.Send(ctx, "nys@example.com"); err != nil {
			t.Fatalf("write %d within quota: %v", i, err)
		}
	}
	if _, err := c.Send(ctx, "nys@example.com"); !invitations.IsQuota(err) {
		t.Fatalf("write over quota: %v", err)
	}
	if a, _ := srv.State().Account("nys@example.com"); a.Mails != 2 {
		t.Fatalf("a rejected send changed mails to %d", a.Mails)
	}
	now = now.Add(time.Minute)
	if _, err := c.IsInvitable(ctx, "nys@example.com"); err != nil {
		t.Fatalf("read a minute later: %v", err)
	}
	st := srv.State()
	if st.QuotaRejections["read"] != 1 || st.QuotaRejections["write"] != 1 || st.Calls["isInvitableUser"] != 5 || st.Calls["send"] != 3 {
		t.Fatalf("counters: %+v %+v", st.QuotaRejections, st.Calls)
	}
}

func TestFaults(t *testing.T) {
	cases := []struct {
		name    string
		cfg     emulator.Config
		kind    invitations.Kind
		applied bool
		counter string
	}{
		{"429", emulator.Config{Fault429: 1}, invitations.KindQuota, false, "429"},
		{"503", emulator.Config{Fault503: 1}, invitations.KindAmbiguous, false, "503"},
		{"503 after", emulator.Config{Fault503After: 1}, invitations.KindAmbiguous, true, "503_after"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, _, c := start(t, smallWorld(), tc.cfg, invitations.V1)
			_, err := c.Send(context.Background(), "nys@example.com")
			if invitations.KindOf(err) != tc.kind {
				t.Fatalf("send: %v (kind %v), want kind %v", err, invitations.KindOf(err), tc.kind)
			}
			st := srv.State()
			a, _ := st.Account("nys@example.com")
			if applied := a.Sends == 1 && a.Mails == 1 && a.State == "INVITED"; applied != tc.applied {
				t.Fatalf("after %s the account is %+v; applied=%v", tc.name, a, tc.applied)
			}
			if st.Faults[tc.counter] != 1 {
				t.Fatalf("fault counters %v", st.Faults)
			}
			if tc.applied && a.FaultsAfter != 1 || !tc.applied && tc.name != "429" && a.FaultsBefore != 1 {
				t.Fatalf("per-account fault record %+v", a)
			}
			// Reads see the same faults; for them every fault is safe to retry.
			if _, err := c.Get(context.Background(), "invited@example.com"); invitations.KindOf(err) != tc.kind {
				t.Fatalf("get: %v, want kind %v", err, tc.kind)
			}
		})
	}
}

func TestResetFault(t *testing.T) {
	srv, _, c := start(t, smallWorld(), emulator.Config{FaultReset: 1, Seed: 7}, invitations.V1)
	ctx := context.Background()
	for _, email := range []string{"nys@example.com", "invited@example.com", "declined@example.com", "recent@example.com"} {
		if _, err := c.Send(ctx, email); !invitations.IsAmbiguous(err) {
			t.Fatalf("send %s through a reset: %v (kind %v), want ambiguous", email, err, invitations.KindOf(err))
		}
	}
	st := srv.State()
	applied := 0
	for _, a := range st.Accounts {
		applied += a.Sends
		if a.Sends != a.FaultsAfter {
			t.Errorf("%s: %d sends applied but %d recorded as applied behind a fault", a.Email, a.Sends, a.FaultsAfter)
		}
	}
	if applied != st.Faults["reset_after"] || st.Faults["reset"]+st.Faults["reset_after"] != 4 {
		t.Fatalf("fault counters %v, %d sends applied", st.Faults, applied)
	}
	if _, err := c.IsInvitable(ctx, "nys@example.com"); !invitations.IsAmbiguous(err) {
		t.Fatalf("read through a reset: %v", err)
	}
}

func TestInProcessTransport(t *testing.T) {
	srv, err := emulator.New(smallWorld(), emulator.Config{FaultReset: 1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := invitations.New(context.Background(), invitations.Config{
		Customer: customer, Endpoint: "http://emulator.invalid", Transport: srv.Transport(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background(), "nys@example.com"); !invitations.IsAmbiguous(err) {
		t.Fatalf("reset through the in-process transport: %v", err)
	}
}

func TestFaultsAreSeeded(t *testing.T) {
	run := func() []invitations.Kind {
		_, _, c := start(t, bigWorld(200), emulator.Config{Fault429: 0.2, Fault503: 0.2, Seed: 42}, invitations.V1)
		var kinds []invitations.Kind
		for range 50 {
			_, err := c.IsInvitable(context.Background(), "user00001@example.com")
			kinds = append(kinds, invitations.KindOf(err))
		}
		return kinds
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	if !slices.Contains(a, invitations.KindQuota) || !slices.Contains(a, invitations.KindAmbiguous) || !slices.Contains(a, invitations.KindUnknown) {
		t.Fatalf("fault mix %v lacks a kind", a)
	}
}

func TestLatencyTimeoutIsAmbiguous(t *testing.T) {
	srv, err := emulator.New(smallWorld(), emulator.Config{Latency: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c, err := invitations.New(context.Background(), invitations.Config{Customer: customer, Endpoint: hs.URL, CallTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), "nys@example.com"); !invitations.IsAmbiguous(err) {
		t.Fatalf("timed-out send: %v (kind %v), want ambiguous", err, invitations.KindOf(err))
	}
}

func TestResetEndpoint(t *testing.T) {
	srv, base, c := start(t, smallWorld(), emulator.Config{}, invitations.V1)
	if _, err := c.Send(context.Background(), "nys@example.com"); err != nil {
		t.Fatal(err)
	}
	code, _ := getJSON(t, base+"/_emulator/reset", http.MethodPost)
	if code != 200 {
		t.Fatalf("reset: HTTP %d", code)
	}
	st := srv.State()
	a, _ := st.Account("nys@example.com")
	if a.State != "NOT_YET_SENT" || a.Mails != 0 || a.Sends != 0 || len(st.Calls) != 0 {
		t.Fatalf("after reset: %+v, calls %v", a, st.Calls)
	}
	code, body := getJSON(t, base+"/_emulator/state", http.MethodGet)
	if accts, _ := body["accounts"].([]any); code != 200 || len(accts) != len(smallWorld().Users) {
		t.Fatalf("state: %d %v", code, body)
	}
}

func TestParseWorld(t *testing.T) {
	bad := map[string]string{
		"customer":      `{"customer":"X1","users":[]}`,
		"email":         `{"customer":"C1","users":[{"email":"nope"}]}`,
		"duplicate":     `{"customer":"C1","users":[{"email":"a@example.com"},{"email":"A@example.com"}]}`,
		"kind":          `{"customer":"C1","users":[{"email":"a@example.com","kind":"robot"}]}`,
		"state":         `{"customer":"C1","users":[{"email":"a@example.com","state":"PENDING"}]}`,
		"field":         `{"customer":"C1","users":[{"email":"a@example.com","colour":"red"}]}`,
		"refuse method": `{"customer":"C1","users":[{"email":"a@example.com","refuse":{"list":403}}]}`,
		"refuse code":   `{"customer":"C1","users":[{"email":"a@example.com","refuse":{"send":500}}]}`,
		"hold method":   `{"customer":"C1","users":[{"email":"a@example.com","hold":{"frob":"1s"}}]}`,
		"hold syntax":   `{"customer":"C1","users":[{"email":"a@example.com","hold":{"send":"soon"}}]}`,
		"hold number":   `{"customer":"C1","users":[{"email":"a@example.com","hold":{"send":500}}]}`,
		"hold zero":     `{"customer":"C1","users":[{"email":"a@example.com","hold":{"send":"0s"}}]}`,
	}
	for name, doc := range bad {
		if _, err := emulator.ParseWorld([]byte(doc), "w.json"); err == nil || !strings.Contains(err.Error(), "w.json") {
			t.Errorf("%s: err = %v, want an error naming the file", name, err)
		}
	}
	// A duration is said as invitectl writes durations (days), not as Go's -72h0m0s.
	if _, err := emulator.ParseWorld([]byte(`{"customer":"C1","users":[{"email":"a@example.com","hold":{"send":"-72h"}}]}`), "w.json"); err == nil ||
		!strings.Contains(err.Error(), "duration -3d is not positive") {
		t.Errorf("a negative hold: %v", err)
	}
	w, err := emulator.ParseWorld([]byte(`{"customer":"C1","users":[{"email":" A@Example.com "}]}`), "w.json")
	if err != nil || w.Users[0].Email != "a@example.com" || w.Users[0].Kind != "unmanaged" || w.Users[0].State != "NOT_YET_SENT" {
		t.Fatalf("defaults: %+v, %v", w, err)
	}
}

func TestSheetsValues(t *testing.T) {
	doc := `{"customer":"C1","users":[],"sheets":{"book1":{"Roster":[["email","name",""],["a@example.com"],[],["b@example.com","B","x",""]],"Q1":[["x"]]}}}`
	w, err := emulator.ParseWorld([]byte(doc), "w.json")
	if err != nil {
		t.Fatal(err)
	}
	_, base, _ := start(t, w, emulator.Config{}, invitations.V1)
	cases := []struct {
		rng  string
		want string
	}{
		{"Roster", `[["email","name"],["a@example.com"],[],["b@example.com","B","x"]]`},
		{"A1:B2", `[["email","name"],["a@example.com"]]`},
		{"Roster!B:B", `[["name"],[],[],["B"]]`},
		{"'Roster'!A3:C", `[[],["b@example.com","B","x"]]`},
		{"Q1", `[["x"]]`},
	}
	for _, tc := range cases {
		code, body := getJSON(t, base+"/v4/spreadsheets/book1/values/"+url.PathEscape(tc.rng), http.MethodGet)
		got, _ := json.Marshal(body["values"])
		if code != 200 || string(got) != tc.want || body["majorDimension"] != "ROWS" {
			t.Errorf("range %q: %d %s, want %s", tc.rng, code, got, tc.want)
		}
	}
	if code, _ := getJSON(t, base+"/v4/spreadsheets/nope/values/A1", http.MethodGet); code != 404 {
		t.Errorf("unknown spreadsheet: HTTP %d", code)
	}
	if code, _ := getJSON(t, base+"/v4/spreadsheets/book1/values/"+url.PathEscape("Nope!A1"), http.MethodGet); code != 400 {
		t.Errorf("unknown sheet: HTTP %d", code)
	}
	code, body := getJSON(t, base+"/v4/spreadsheets/book1", http.MethodGet)
	if sheets, _ := body["sheets"].([]any); code != 200 || len(sheets) != 2 || !strings.Contains(fmt.Sprint(sheets[0]), "Roster") {
		t.Errorf("spreadsheet metadata: %d %v", code, body)
	}
}
