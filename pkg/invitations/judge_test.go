package invitations

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/invitectl/invitectl/pkg/emulator"
)

func refusalOf(kind Kind, code int) error {
	return &Error{Kind: kind, Method: "send", Email: "a@example.com", HTTPCode: code}
}

// A 404 or 400 is the address's own refusal without a probe; a 403 is
// judged by one: the address's when the probe succeeds, the credentials'
// (KindAuth) when it fails too; anything else is left as it is.
func TestJudge(t *testing.T) {
	probeFails := errors.New("HTTP 403 PERMISSION_DENIED: Not Authorized")
	tests := []struct {
		name    string
		err     error
		probe   error
		refusal bool
		kind    Kind
		probes  int
	}{
		{"404", refusalOf(KindNotFound, 404), nil, true, KindNotFound, 0},
		{"400 invalid", refusalOf(KindInvalid, 400), nil, true, KindInvalid, 0},
		{"403, probe ok", refusalOf(KindDenied, 403), nil, true, KindDenied, 1},
		{"403, probe denied", refusalOf(KindDenied, 403), probeFails, false, KindAuth, 1},
		{"503", refusalOf(KindAmbiguous, 503), nil, false, KindAmbiguous, 0},
		{"precondition", refusalOf(KindPrecondition, 400), nil, false, KindPrecondition, 0},
		{"401", refusalOf(KindAuth, 401), nil, false, KindAuth, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := NewJudge(func(context.Context) error { return tt.probe })
			got := j.Judge(context.Background(), tt.err)
			if IsRefusal(got) != tt.refusal || KindOf(got) != tt.kind || j.Probes() != tt.probes || !errors.Is(got, tt.err) {
				t.Errorf("Judge = %v (refusal %v, kind %v, %d probes); want refusal %v, kind %v, %d probes, wrapping the call's error",
					got, IsRefusal(got), KindOf(got), j.Probes(), tt.refusal, tt.kind, tt.probes)
			}
			var d *DeniedError
			if errors.As(got, &d) && (d.Probe != probeFails || !strings.Contains(got.Error(), "a probe with the same credentials also failed")) {
				t.Errorf("DeniedError %v", got)
			}
		})
	}
}

// A probe cut short by the caller's context decides nothing: the 403 comes
// back unchanged, neither a refusal nor a credential failure.
func TestJudgeInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	j := NewJudge(func(ctx context.Context) error { cancel(); return ctx.Err() })
	err := refusalOf(KindDenied, 403)
	if got := j.Judge(ctx, err); got != err {
		t.Errorf("Judge after the probe was cut = %v, want the 403 unchanged", got)
	}
}

// Concurrent 403s share one probe, and each gets its verdict; a caller
// whose context ends while it waits for another's probe gets its 403 back.
func TestJudgeSharesOneProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const callers = 8
		release := make(chan struct{})
		j := NewJudge(func(context.Context) error {
			<-release
			return nil
		})
		var wg sync.WaitGroup
		results := make([]error, callers)
		for i := range callers {
			wg.Go(func() { results[i] = j.Judge(context.Background(), refusalOf(KindDenied, 403)) })
		}
		synctest.Wait() // one caller probes, the others wait for it
		ctx, cancel := context.WithCancel(context.Background())
		mine := refusalOf(KindDenied, 403)
		var got error
		wg.Go(func() { got = j.Judge(ctx, mine) })
		synctest.Wait()
		cancel()
		synctest.Wait()
		if got != mine {
			t.Errorf("a waiter whose context ended: %v, want its 403 unchanged", got)
		}
		close(release)
		wg.Wait()
		for i, err := range results {
			if !IsRefusal(err) {
				t.Errorf("caller %d: %v, want a refusal", i, err)
			}
		}
		if j.Probes() != 1 {
			t.Errorf("%d probes for %d concurrent 403s, want 1", j.Probes(), callers+1)
		}
		// The next 403, after the probe ended, makes a probe of its own.
		release = make(chan struct{})
		close(release)
		_ = j.Judge(context.Background(), refusalOf(KindDenied, 403))
		if j.Probes() != 2 {
			t.Errorf("%d probes, want 2", j.Probes())
		}
	})
}

// Probe reads one page of one invitation with the same client: it
// succeeds against a customer the credentials can read, and fails with
// the API's own error otherwise.
func TestProbe(t *testing.T) {
	srv, err := emulator.New(emulator.World{Customer: "C0probe1", Users: []emulator.User{{Email: "a@example.com"}, {Email: "b@example.com"}}}, emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	for customer, ok := range map[string]bool{"C0probe1": true, "C0other1": false} {
		a, err := New(context.Background(), Config{Customer: customer, Endpoint: hs.URL})
		if err != nil {
			t.Fatal(err)
		}
		paced := 0
		probe := Probe(a, func(ctx context.Context, call func(context.Context) error) error { paced++; return call(ctx) })
		err = probe(context.Background())
		if (err == nil) != ok || paced != 1 {
			t.Errorf("probe of %s: %v after %d paced calls; want ok %v after 1", customer, err, paced, ok)
		}
		if !ok && KindOf(err) != KindDenied && KindOf(err) != KindAuth {
			t.Errorf("probe of another customer: %v (kind %v)", err, KindOf(err))
		}
	}
	if got := srv.State().Calls["list"]; got != 2 {
		t.Errorf("%d list calls, want one per probe", got)
	}
}
