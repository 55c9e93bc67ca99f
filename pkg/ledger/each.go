package ledger

import (
	"slices"
	"strings"
)

// Each calls fn, in address order, with the latest call (as Latest gives
// it: took effect, unknown or still pending) of every address the ledger
// holds: calls that provably had no effect are not kept, and with
// Options.Since neither are settled calls older than it. It reads what this
// process has read; Refresh first to include what others appended. fn runs
// without the ledger's lock held, and its error stops Each.
func (l *Ledger) Each(fn func(Call) error) error {
	l.mu.Lock()
	calls := make([]Call, 0, len(l.index))
	for email, e := range l.index {
		if c := e.latest(); c != nil {
			calls = append(calls, c.export(email))
		}
	}
	l.mu.Unlock()
	slices.SortFunc(calls, func(a, b Call) int { return strings.Compare(a.Email, b.Email) })
	for _, c := range calls {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// latest is the entry's most recent call that may have had an effect, as
// Latest chooses it; nil when there is none.
func (e *entry) latest() *call {
	var best *call
	e.each(func(c *call) {
		if c.effect != None && (best == nil || c.at > best.at) {
			best = c
		}
	})
	return best
}
