package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/googleapis/gax-go/v2/apierror"
	"golang.org/x/oauth2"
	cloudidentity "google.golang.org/api/cloudidentity/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/scope"
)

// step is one call at an offset from the start, and the quota_limit that
// rejects it ("" when admitted).
type step struct {
	at     time.Duration
	method string // read or write
	limit  string
}

// TestQuotaWindows checks which calls each window admits, through the
// generated client, on an injected clock (issue 9 item 1).
func TestQuotaWindows(t *testing.T) {
	const (
		rpm   = "RequestsPerMinutePerUser"
		reads = "ReadsPerMinutePerUser"
		write = "WritesPerMinutePerUser"
		day   = "RequestsPerDayPerProject"
	)
	s := time.Second
	cases := []struct {
		name  string
		quota emulator.Quota
		steps []step
	}{
		{"rolling shared", emulator.Quota{RequestsPerMinute: 3}, []step{
			{0, "read", ""}, {10 * s, "write", ""}, {20 * s, "read", ""},
			{30 * s, "write", rpm}, {59 * s, "read", rpm},
			{60 * s, "read", ""}, // the call at 0 left the window
			{61 * s, "read", rpm},
			{70*s + 1, "write", ""},
		}},
		{"fixed shared", emulator.Quota{RequestsPerMinute: 3, Window: emulator.WindowFixed}, []step{
			// The clock starts at 12:00:30.
			{0, "read", ""}, {10 * s, "read", ""}, {20 * s, "read", ""},
			{25 * s, "read", rpm},
			{30 * s, "read", ""}, {30 * s, "read", ""}, {30 * s, "write", ""}, // 12:01:00, a new minute
			{31 * s, "read", rpm},
		}},
		{"separate reads and writes", emulator.Quota{ReadsPerMinute: 2, WritesPerMinute: 1}, []step{
			{0, "read", ""}, {0, "read", ""}, {0, "read", reads},
			{0, "write", ""}, {0, "write", write},
			{60 * s, "read", ""}, {60 * s, "write", ""},
		}},
		{"shared and separate", emulator.Quota{RequestsPerMinute: 3, WritesPerMinute: 1}, []step{
			{0, "write", ""}, {0, "write", write}, {0, "read", ""}, {0, "read", ""}, {0, "read", rpm},
		}},
		{"a rejected call does not count", emulator.Quota{RequestsPerMinute: 2}, []step{
			{0, "read", ""}, {30 * s, "read", ""},
			{31 * s, "read", rpm}, {32 * s, "read", rpm}, {33 * s, "write", rpm},
			{60*s + 1, "read", ""}, // only the call at 30 s is in the window
			{61 * s, "read", rpm},
		}},
		{"per day, midnight Pacific", emulator.Quota{RequestsPerDay: 3, RequestsPerMinute: 2}, []step{
			{0, "read", ""}, {0, "write", ""}, {0, "read", rpm},
			{60 * s, "read", ""}, {60 * s, "read", day},
			{10 * time.Hour, "read", day},
			// 12:00:30 UTC on 1 May is 05:00:30 PDT; the day ends 19 h later.
			{19 * time.Hour, "read", ""},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			start0 := clk.t
			srv, _, c := start(t, smallWorld(), emulator.Config{Now: clk.now, Quota: tc.quota}, invitations.V1)
			ctx := context.Background()
			rejected := map[string]int{}
			for i, st := range tc.steps {
				clk.t = start0.Add(st.at)
				var err error
				if st.method == "write" {
					_, err = c.Send(ctx, "nys@example.com")
				} else {
					_, err = c.IsInvitable(ctx, "nys@example.com")
				}
				switch {
				case st.limit == "" && err != nil:
					t.Fatalf("step %d (%s at %v): %v, want admitted", i+1, st.method, st.at, err)
				case st.limit != "":
					ae := apiError(err)
					if ae == nil || ae.HTTPCode() != 429 || ae.Metadata()["quota_limit"] != st.limit {
						t.Fatalf("step %d (%s at %v): %v, want a 429 of %s", i+1, st.method, st.at, err, st.limit)
					}
					rejected[st.limit]++
				}
			}
			snap := srv.State()
			for limit, n := range rejected {
				if snap.QuotaRejectionsByLimit[limit] != n {
					t.Errorf("rejections by limit %v, want %v", snap.QuotaRejectionsByLimit, rejected)
				}
			}
		})
	}
}

// apiError is the parsed error of a generated client's call. Note that
// apierror.FromError on such an error loses the details: the client wraps
// an *apierror.APIError whose GRPCStatus carries none, and FromError takes
// that path. errors.As finds the wrapped APIError with its details.
func apiError(err error) *apierror.APIError {
	var ae *apierror.APIError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

// TestQuotaEnvelope: the 429 is Google's, exactly: RESOURCE_EXHAUSTED, the
// message naming metric, limit and consumer, an ErrorInfo with the limit's
// metadata, a Help link, and no Retry-After; gax-go's apierror parses it.
func TestQuotaEnvelope(t *testing.T) {
	cases := []struct {
		quota                            emulator.Quota
		write                            bool
		metric, metricName, limit, lName string
		value                            string
	}{
		{emulator.Quota{ReadsPerMinute: 1}, false, "cloudidentity.googleapis.com/read_requests", "Read requests", "ReadsPerMinutePerUser", "Read requests per minute per user", "1"},
		{emulator.Quota{WritesPerMinute: 1}, true, "cloudidentity.googleapis.com/write_requests", "Write requests", "WritesPerMinutePerUser", "Write requests per minute per user", "1"},
		{emulator.Quota{RequestsPerMinute: 1, Project: "424242"}, true, "cloudidentity.googleapis.com/requests", "Requests", "RequestsPerMinutePerUser", "Requests per minute per user", "1"},
		{emulator.Quota{RequestsPerDay: 1}, false, "cloudidentity.googleapis.com/requests", "Requests", "RequestsPerDayPerProject", "Requests per day per project", "1"},
	}
	for _, tc := range cases {
		t.Run(tc.limit, func(t *testing.T) {
			_, base, _ := start(t, smallWorld(), emulator.Config{Quota: tc.quota}, invitations.V1)
			svc, err := cloudidentity.NewService(context.Background(), option.WithEndpoint(base+"/"), option.WithHTTPClient(http.DefaultClient))
			if err != nil {
				t.Fatal(err)
			}
			name := "customers/" + customer + "/userinvitations/nys@example.com"
			do := func() error {
				if tc.write {
					_, err := svc.Customers.Userinvitations.Send(name, &cloudidentity.SendUserInvitationRequest{}).Do()
					return err
				}
				_, err := svc.Customers.Userinvitations.IsInvitableUser(name).Do()
				return err
			}
			if err := do(); err != nil {
				t.Fatalf("first call: %v", err)
			}
			err = do()
			var gerr *googleapi.Error
			if !errors.As(err, &gerr) || gerr.Code != 429 {
				t.Fatalf("second call: %v, want a 429", err)
			}
			if ra := gerr.Header.Get("Retry-After"); ra != "" {
				t.Errorf("Retry-After %q; Google sends none", ra)
			}
			project := tc.quota.Project
			if project == "" {
				project = "100000000001"
			}
			wantMsg := "Quota exceeded for quota metric '" + tc.metricName + "' and limit '" + tc.lName +
				"' of service 'cloudidentity.googleapis.com' for consumer 'project_number:" + project + "'."
			if gerr.Message != wantMsg {
				t.Errorf("message %q\nwant    %q", gerr.Message, wantMsg)
			}
			// The body alone parses with apierror.FromError, and the
			// client's error carries the same through errors.As.
			bare, ok := apierror.FromError(&googleapi.Error{Code: gerr.Code, Message: gerr.Message, Body: gerr.Body, Header: gerr.Header})
			if !ok || bare.Reason() != "RATE_LIMIT_EXCEEDED" || bare.Details().Help == nil {
				t.Fatalf("apierror.FromError of the body: %v", bare)
			}
			ae := apiError(err)
			if ae == nil || ae.Reason() != bare.Reason() || len(ae.Metadata()) != len(bare.Metadata()) {
				t.Fatalf("errors.As: %v", ae)
			}
			if ae.GRPCStatus().Code().String() != "ResourceExhausted" || ae.Reason() != "RATE_LIMIT_EXCEEDED" || ae.Domain() != "googleapis.com" {
				t.Errorf("status %v reason %q domain %q", ae.GRPCStatus().Code(), ae.Reason(), ae.Domain())
			}
			want := map[string]string{
				"quota_metric": tc.metric, "quota_limit": tc.limit, "quota_limit_value": tc.value,
				"quota_location": "global", "consumer": "projects/" + project, "service": "cloudidentity.googleapis.com",
			}
			md := ae.Metadata()
			for k, v := range want {
				if md[k] != v {
					t.Errorf("metadata %s = %q, want %q", k, md[k], v)
				}
			}
			if len(md) != len(want) {
				t.Errorf("metadata %v has extra keys", md)
			}
			help := ae.Details().Help
			if help == nil || len(help.Links) != 1 || help.Links[0].Url != "https://cloud.google.com/docs/quotas/help/request_increase" {
				t.Errorf("help %v", help)
			}
			if ae.Details().RetryInfo != nil {
				t.Error("a RetryInfo detail; Google sends none for a quota error")
			}
		})
	}
}

// A Bare quota answers its 429s without any detail: no ErrorInfo, no Help.
func TestBareQuota(t *testing.T) {
	_, base, _ := start(t, smallWorld(), emulator.Config{Quota: emulator.Quota{WritesPerMinute: 1, Bare: true}}, invitations.V1)
	svc, err := cloudidentity.NewService(context.Background(), option.WithEndpoint(base+"/"), option.WithHTTPClient(http.DefaultClient))
	if err != nil {
		t.Fatal(err)
	}
	name := "customers/" + customer + "/userinvitations/nys@example.com"
	if _, err := svc.Customers.Userinvitations.Send(name, &cloudidentity.SendUserInvitationRequest{}).Do(); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Customers.Userinvitations.Send(name, &cloudidentity.SendUserInvitationRequest{}).Do()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) || gerr.Code != 429 {
		t.Fatalf("second send: %v, want a 429", err)
	}
	if ae := apiError(err); ae != nil && (ae.Reason() != "" || ae.Details().Help != nil) {
		t.Fatalf("a bare 429 carries details: %v", ae)
	}
}

// TestQuotaPerUser: per-minute limits count per user, the daily one per
// project; two administrators with their own logins share only the day.
func TestQuotaPerUser(t *testing.T) {
	w := smallWorld()
	w.Admins = []string{"ann@example.com", "bob@example.com"}
	cfg := emulator.Config{Quota: emulator.Quota{RequestsPerMinute: 2, RequestsPerDay: 5}, Auth: emulator.AuthConfig{Require: true,
		Logins: map[string]emulator.Login{
			"rt-ann": {Subject: "ann@example.com", Scopes: []string{scope.Invitations}},
			"rt-bob": {Subject: "bob@example.com", Scopes: []string{scope.Invitations}},
		}}}
	srv, base, _ := start(t, w, cfg, invitations.V1)
	client := func(refresh string) *invitations.Adapter {
		oc := &oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: base + "/token"}}
		c, err := invitations.New(context.Background(), invitations.Config{Customer: customer, Endpoint: base,
			TokenSource: oc.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refresh})})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ann, bob := client("rt-ann"), client("rt-bob")
	ctx := context.Background()
	for i, st := range []struct {
		c     *invitations.Adapter
		limit string
	}{
		{ann, ""}, {ann, ""}, {ann, "RequestsPerMinutePerUser"},
		{bob, ""}, {bob, ""}, {bob, "RequestsPerMinutePerUser"},
	} {
		_, err := st.c.IsInvitable(ctx, "nys@example.com")
		ae := apiError(err)
		if st.limit == "" && err != nil || st.limit != "" && (ae == nil || ae.Metadata()["quota_limit"] != st.limit) {
			t.Fatalf("call %d: %v, want limit %q", i+1, err, st.limit)
		}
	}
	if got := srv.State().Auth.Actors; got["ann@example.com"] != 3 || got["bob@example.com"] != 3 {
		t.Fatalf("actors %v", got)
	}
}

func TestParseQuota(t *testing.T) {
	good := []struct {
		in   string
		want emulator.Quota
	}{
		{"", emulator.Quota{}},
		{"60/min", emulator.Quota{RequestsPerMinute: 60}},
		{"60/minute", emulator.Quota{RequestsPerMinute: 60}},
		{"10000/day", emulator.Quota{RequestsPerDay: 10000}},
		{"requests=60/min, 5000/day", emulator.Quota{RequestsPerMinute: 60, RequestsPerDay: 5000}},
		{"reads=60/min,writes=30/min", emulator.Quota{ReadsPerMinute: 60, WritesPerMinute: 30}},
		{"120/min,window=fixed", emulator.Quota{RequestsPerMinute: 120, Window: emulator.WindowFixed}},
		{"writes=180/min,details=none", emulator.Quota{WritesPerMinute: 180, Bare: true}},
	}
	for _, tc := range good {
		got, err := emulator.ParseQuota(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseQuota(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if again, err := emulator.ParseQuota(got.String()); err != nil || again != got {
			t.Errorf("ParseQuota(%q.String() = %q) = %+v, %v", tc.in, got.String(), again, err)
		}
	}
	for _, in := range []string{"60", "60/hour", "0/min", "-1/min", "x/min", "reads=60/day", "cats=1/min", "window=sliding", "60/min,,fast"} {
		if _, err := emulator.ParseQuota(in); err == nil {
			t.Errorf("ParseQuota(%q) accepted", in)
		}
	}
}

// TestFault429IsBare: the injected 429 names no limit, the shape a client
// must survive without metadata.
func TestFault429IsBare(t *testing.T) {
	_, _, c := start(t, smallWorld(), emulator.Config{Fault429: 1}, invitations.V1)
	_, err := c.IsInvitable(context.Background(), "nys@example.com")
	e := apiErr(t, err)
	ae := apiError(err)
	if e.HTTPCode != 429 || e.Status != "RESOURCE_EXHAUSTED" || e.Reason != "" || !invitations.IsQuota(err) || ae == nil || ae.Details().ErrorInfo != nil {
		t.Fatalf("fault 429: %+v", e)
	}
}
