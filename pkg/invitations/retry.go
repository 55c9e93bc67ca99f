package invitations

import "github.com/invitectl/invitectl/pkg/pace"

// ReadVerdict is the retry policy of reads (isInvitableUser, get, list):
// they change nothing, so anything that may pass is retried, ambiguous
// failures included; quota errors also slow the shared limiter down.
func ReadVerdict(err error) pace.Verdict {
	switch KindOf(err) {
	case KindQuota:
		return pace.Verdict{Retry: true, Quota: true, After: RetryAfter(err)}
	case KindUnavailable, KindAmbiguous:
		return pace.Verdict{Retry: true, After: RetryAfter(err)}
	}
	return pace.Verdict{}
}
