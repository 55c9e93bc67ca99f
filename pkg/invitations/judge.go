package invitations

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Judge tells one address's refusal from a failure of the credentials.
//
// Google refuses some addresses on their own: isInvitableUser, get, send or
// cancel answer 403, 404 or 400 for one address while every other call
// succeeds (GAM's user-invitation commands treat NOT_FOUND,
// INVALID_ARGUMENT and PERMISSION_DENIED as that address's outcome and go
// on). A 404 or a 400 never says anything about the credentials. A bare 403
// may: a subject that is not an administrator, or another customer's ID,
// gets the same answer. So a 403 is judged by evidence: one cheap call with
// the same token (the probe). If it succeeds, the 403 was the address's; if
// it fails, the credentials are at fault. Concurrent 403s share one probe.
type Judge struct {
	probe func(context.Context) error

	mu     sync.Mutex
	flight *probeCall
	probes int
}

type probeCall struct {
	done chan struct{}
	err  error
}

// NewJudge returns a judge that probes with probe, a read made with the same
// credentials, paced and retried like any read; see Probe.
func NewJudge(probe func(context.Context) error) *Judge {
	return &Judge{probe: probe}
}

// Refusal is one address's refusal: the call failed for that address only.
type Refusal struct{ Err error }

func (r *Refusal) Error() string { return r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

// DeniedError is a 403 that is the credentials' failure: a probe confirmed
// it, or the call was not about one address (a listing). Its kind is
// KindAuth.
type DeniedError struct {
	Err   error // the 403
	Probe error // the probe's failure; nil when none was needed
}

func (e *DeniedError) Error() string {
	if e.Probe == nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("%v (a probe with the same credentials also failed: %v)", e.Err, e.Probe)
}

// Denied marks a bare 403 of a call that names no address (a listing) as the
// credentials' failure; other errors are returned unchanged.
func Denied(err error) error {
	if KindOf(err) == KindDenied {
		return &DeniedError{Err: err}
	}
	return err
}
func (e *DeniedError) Unwrap() error { return e.Err }

// Judge classifies a failed call on one address. It returns a *Refusal when
// the failure is that address's own (404, 400 INVALID_ARGUMENT, or a 403
// that a successful probe showed to be about the address), a *DeniedError
// (KindAuth) when the probe failed too, and err unchanged otherwise. ctx
// bounds the probe; when it ends, err is returned unchanged.
func (j *Judge) Judge(ctx context.Context, err error) error {
	switch KindOf(err) {
	case KindNotFound, KindInvalid:
		return &Refusal{Err: err}
	case KindDenied:
	default:
		return err
	}
	perr := j.run(ctx)
	switch {
	case perr == nil:
		return &Refusal{Err: err}
	case ctx.Err() != nil:
		return err
	}
	return &DeniedError{Err: err, Probe: perr}
}

// Probes is the number of probes made.
func (j *Judge) Probes() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.probes
}

// run makes one probe, or joins the one in flight.
func (j *Judge) run(ctx context.Context) error {
	j.mu.Lock()
	c := j.flight
	if c == nil {
		c = &probeCall{done: make(chan struct{})}
		j.flight = c
		j.probes++
		j.mu.Unlock()
		c.err = j.probe(ctx)
		j.mu.Lock()
		j.flight = nil
		j.mu.Unlock()
		close(c.done)
		return c.err
	}
	j.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// IsRefusal reports one address's refusal, as Judge returns it.
func IsRefusal(err error) bool {
	var r *Refusal
	return errors.As(err, &r)
}

// errProbeDone stops a probe's listing after its first page.
var errProbeDone = errors.New("probe done")

// Probe returns a probe for NewJudge: the first page, of one invitation, of
// the customer's listing, run by pace (nil: called directly).
func Probe(c interface {
	List(ctx context.Context, opts ListOptions, page func([]Invitation) error) error
}, pace func(ctx context.Context, call func(context.Context) error) error) func(context.Context) error {
	return func(ctx context.Context) error {
		err := c.List(ctx, ListOptions{PageSize: 1, Pace: pace}, func([]Invitation) error { return errProbeDone })
		if errors.Is(err, errProbeDone) {
			return nil
		}
		return err
	}
}
