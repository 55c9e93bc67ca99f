package pace

import (
	"context"
	"math"
	"time"
)

// Limiter is one class of a Pacer: what every call of that class waits on,
// through Do or a Window.
//
// A nil *Limiter, or one made by NewLimiter with a rate <= 0, is unlimited
// and learns nothing: Wait admits at once, except during a Retry-After
// pause.
type Limiter struct {
	p  *Pacer
	cs *classState
}

// NewLimiter returns the limiter of a Pacer of one class capped at
// ratePerSec calls per second. ratePerSec <= 0 (or NaN, or +Inf) returns
// an unlimited limiter that learns nothing.
func NewLimiter(ratePerSec float64) *Limiter {
	if !(ratePerSec > 0) || math.IsInf(ratePerSec, 1) {
		p := &Pacer{t0: time.Now(), maxPause: DefaultMaxPause, static: true}
		cs := &classState{class: Read}
		p.lims[Read] = Limiter{p: p, cs: cs}
		return &p.lims[Read]
	}
	return New(Config{ReadQPS: ratePerSec}).Limiter(Read)
}

// Wait blocks until the caller may make one call, or ctx ends. When the
// class's daily quota is spent, it returns a *DailyQuotaError at once.
// A call admitted by Wait reports nothing back: make calls through Do or
// Window.Do, so that their quota errors teach the pacer.
func (l *Limiter) Wait(ctx context.Context) error {
	_, err := l.wait(ctx, false)
	return err
}

func (l *Limiter) wait(ctx context.Context, probeOK bool) (ticket, error) {
	if l == nil {
		return ticket{}, ctxDone(ctx)
	}
	return l.p.wait(ctx, l.cs, probeOK)
}

func (l *Limiter) succeeded(tk ticket) {
	if l != nil {
		l.p.succeeded(tk)
	}
}

func (l *Limiter) abandoned(tk ticket) {
	if l != nil {
		l.p.abandoned(tk)
	}
}

func (l *Limiter) rejected(tk ticket, v Verdict, cause error) error {
	if l == nil {
		return nil
	}
	return l.p.rejected(tk, v, cause)
}

// Rate is the class's pace in calls per second: its cap, or the learned
// pace of its limit when lower (shared with the other class when they share
// one); 0 when nothing limits it.
func (l *Limiter) Rate() float64 {
	if l == nil || l.p.static {
		return 0
	}
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	r := l.cs.qps
	if g := l.cs.g; g.pace > 0 {
		if gr := float64(g.pace) / g.win.Seconds(); r == 0 || gr < r {
			r = gr
		}
	}
	return r
}

// Unlimited reports whether nothing paces the class: no cap, nothing
// learned.
func (l *Limiter) Unlimited() bool { return l.Rate() == 0 }

// PausedUntil is when the class's calls go again while they wait for a
// Retry-After or for the quota window to take calls; the zero time when
// they flow.
func (l *Limiter) PausedUntil() time.Time {
	if l == nil {
		return time.Time{}
	}
	p := l.p
	if p.static {
		if u := time.Duration(p.pause.Load()); u != 0 && u > p.now() {
			return p.wall(u)
		}
		return time.Time{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	g := l.cs.g
	if u := max(g.pauseUntil, g.windowFree(now)); u > now {
		return p.wall(u)
	}
	return time.Time{}
}

// Stats counts what a limiter has seen.
type Stats struct {
	Admitted    uint64 // calls let through by Wait
	QuotaEvents uint64 // quota errors reported
	Decreases   uint64 // times a quota error lowered the pace
}

// Stats returns the class's counters so far.
func (l *Limiter) Stats() Stats {
	if l == nil {
		return Stats{}
	}
	return Stats{Admitted: l.cs.admitted.Load(), QuotaEvents: l.cs.quota.Load(), Decreases: l.cs.cuts.Load()}
}

// waitStatic only honours a pause: no queue, no lock on the hot path.
func (p *Pacer) waitStatic(ctx context.Context, cs *classState) (ticket, error) {
	for {
		if u := p.pause.Load(); u != 0 && time.Duration(u) > p.now() {
			d := time.Duration(u) - p.now()
			if _, err := sleepOrWake(ctx, d, nil); err != nil {
				return ticket{}, err
			}
			continue
		}
		if err := ctxDone(ctx); err != nil {
			return ticket{}, err
		}
		cs.admitted.Add(1)
		return ticket{cs: cs}, nil
	}
}

// pauseStatic extends the pause to after from now; it never shortens it.
func (p *Pacer) pauseStatic(after time.Duration) {
	if after <= 0 {
		return
	}
	until := int64(p.now() + min(after, p.maxPause))
	for {
		cur := p.pause.Load()
		if cur >= until || p.pause.CompareAndSwap(cur, until) {
			return
		}
	}
}

// sleepOrWake sleeps d unless wake is closed first (woken) or ctx ends.
func sleepOrWake(ctx context.Context, d time.Duration, wake <-chan struct{}) (woken bool, err error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return false, nil
	case <-wake:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// ctxDone is a cheap check: a non-blocking receive takes no lock.
func ctxDone(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	default:
		return nil
	}
}
