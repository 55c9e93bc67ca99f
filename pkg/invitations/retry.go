package invitations

import (
	"context"

	"github.com/invitectl/invitectl/pkg/pace"
)

// ReadVerdict is the retry policy of reads (isInvitableUser, get, list):
// they change nothing, so anything that may pass is retried, ambiguous
// failures included; a quota error also teaches the pacer its limit.
func ReadVerdict(err error) pace.Verdict {
	switch KindOf(err) {
	case KindQuota:
		return quotaVerdict(err)
	case KindUnavailable, KindAmbiguous:
		return pace.Verdict{Retry: true, After: RetryAfter(err)}
	}
	return pace.Verdict{}
}

// WriteVerdict is the retry policy of sends and cancels: only what
// certainly did nothing is retried (a quota error, which also teaches the
// pacer its limit, and a call that never reached the API).
func WriteVerdict(err error) pace.Verdict {
	switch KindOf(err) {
	case KindQuota:
		return quotaVerdict(err)
	case KindUnavailable:
		return pace.Verdict{Retry: true, After: RetryAfter(err)}
	}
	return pace.Verdict{}
}

func quotaVerdict(err error) pace.Verdict {
	v := pace.Verdict{Retry: true, Quota: true, After: RetryAfter(err)}
	if q := QuotaOf(err); q != nil {
		v.Limit = &pace.Limit{Metric: q.Metric, Name: q.Limit, Value: q.Value, Window: q.Window, Help: q.HelpURL}
	}
	return v
}

// PacedReads runs each read call through l with the read retry policy: the
// form ListOptions.Pace and Probe take.
func PacedReads(l *pace.Limiter, p pace.Policy) func(ctx context.Context, call func(context.Context) error) error {
	return func(ctx context.Context, call func(context.Context) error) error {
		_, err := pace.Do(ctx, l, p, ReadVerdict, call)
		return err
	}
}

// SentStates are the states of an invitation that was sent: a listing of
// them leaves out NOT_YET_SENT, which is most of a large tenant.
var SentStates = []State{StateInvited, StateAccepted, StateDeclined}

// SentListing lists the sent invitations (SentStates) in pages of
// MaxPageSize, each page's call paced and retried as a read (PacedReads)
// and counted in *calls.
func SentListing(l *pace.Limiter, p pace.Policy, calls *int) ListOptions {
	paced := PacedReads(l, p)
	return ListOptions{
		States:   SentStates,
		PageSize: MaxPageSize,
		Pace: func(ctx context.Context, call func(context.Context) error) error {
			*calls++
			return paced(ctx, call)
		},
	}
}
