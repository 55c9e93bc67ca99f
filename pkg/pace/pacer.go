package pace

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Tuning of a Pacer.
const (
	// Margin is the share of a learned limit the pacer spends: just under
	// it, so that timer and network jitter never put one call too many in
	// a window. 60 per minute is paced at 58 (one call every 1.03 s).
	Margin = 0.97
	// AssumedPerMinute is the quota the ETA assumes before any is learned:
	// one administrator reported 60 requests per minute for this API, which
	// could not be raised (taers232c/GAMADV-XTD3 issue 223, 2021); Google
	// publishes none.
	AssumedPerMinute = 60
	// DefaultMaxPause bounds a Retry-After pause. Longer values mean a
	// daily quota or a confused server: better to fail items (and resume
	// later) than to hang the run.
	DefaultMaxPause = 5 * time.Minute

	// assumedWindow is the unit of a quota error that names none: Google
	// counts quotas per minute.
	assumedWindow = time.Minute
	// quickProbes calls go, firstProbe apart, after a quota error without
	// details that lowers the pace: a full window refuses them all, while
	// after a lone refusal (a fault) the first one passes and the cut is
	// undone. Three lone refusals in a row are rare (1 in 8,000 at 5%).
	quickProbes = 3
	firstProbe  = 50 * time.Millisecond
	// blindProbe is the first gap between probes of a window that holds
	// calls of an earlier run; the gaps grow fourfold.
	blindProbe = 15 * time.Second
	// boundarySkew: the probe for a window that renews at wall-clock
	// boundaries (fixed minutes) goes this long after the boundary, for a
	// server whose clock is a little behind ours.
	boundarySkew = time.Second
	// minLearn: a refusal without details in the first window of a run,
	// when the window holds fewer of our calls than this, says more about
	// an earlier run's calls than about the limit.
	minLearn = 10
	// maxClimbs bounds the doubling of the climb: 1%, 2%, 4%... 64% of
	// the pace per window.
	maxClimbs = 6
	// maxPatience bounds the windows between a cut and the next climb.
	maxPatience = 16
	// maxLog bounds the calls remembered per group (a window's worth).
	maxLog = 1 << 18
)

// Config sets up a Pacer.
type Config struct {
	// ReadQPS and WriteQPS are upper bounds set by the administrator
	// (--read-qps, --write-qps), in calls per second; <= 0 sets none. The
	// pacer never goes above them and learns the rest.
	ReadQPS, WriteQPS float64
	// State is what an earlier run learned (see Pacer.State); nil starts
	// from nothing.
	State *State
	// MaxPause bounds a Retry-After pause; 0 means DefaultMaxPause.
	MaxPause time.Duration
}

// Pacer paces the API calls of a run by class (Read, Write) and learns the
// quota that the server enforces from its quota errors. Google counts
// quotas per minute (or per 100 seconds, or per day), answers a call over
// quota with a 429 whose ErrorInfo names the limit and its value, and sends
// no Retry-After (issue 9).
//
// Each class starts on its own, capped by its QPS bound only. A refusal then
// teaches a pace, which is Margin of the limit per window, spread evenly:
// one call every window/(Margin × limit), a burst of one, so that neither a
// rolling window nor a fixed one ever holds more than the limit.
//
//   - With the limit's details (Verdict.Limit: metric, value, unit), the
//     value is the limit. Classes whose refusals name the same metric share
//     one pace from then on.
//   - Without them, the window is taken to be a minute, and the limit to be
//     what the window held of the class's calls when the server said no:
//     every call of the last window is remembered. A refusal that lowers
//     the pace is believed only once quick probes are refused too, so that
//     a lone refusal (a fault) is undone at once; a refusal while the window
//     holds what the pace puts there is a lone one. Nothing is ever halved:
//     the pace follows what the window held, and climbs a little each
//     window that it was spent in full (1%, 2%, 4%...) to find a higher
//     limit again.
//
// After a refusal, nothing goes until the window can take a call again (its
// oldest calls leave it) rather than failing again and again; a probe after
// the window's next wall-clock boundary tells fixed windows, which renew
// then, from rolling ones. In the first window of a run, which may hold an
// earlier run's calls, the pacer waits for them to leave. A quota counted
// per day (an hour or more) is not paced: once spent, the class's calls
// fail at once with a *DailyQuotaError until it resets.
//
// A Pacer is safe for concurrent use. Its Limiters are what Do and Window
// take; State exports what it learned for the next run.
type Pacer struct {
	t0       time.Time
	clock    func() time.Duration // since t0; nil reads the time package's clock
	maxPause time.Duration
	static   bool         // NewLimiter(<= 0): learns nothing, honours Retry-After only
	pause    atomic.Int64 // static: end of a Retry-After pause, ns since t0

	mu      sync.Mutex
	classes [numClasses]*classState
	changed chan struct{} // closed and replaced when a state change may let callers go sooner
	lims    [numClasses]Limiter
}

// classState is one class's cap and statistics.
type classState struct {
	class    Class
	qps      float64
	interval time.Duration // 1/qps; 0 when uncapped
	tau      time.Duration // burst tolerance of the cap
	tat      time.Duration // theoretical arrival time of the cap (GCRA)
	g        *group
	turn     chan struct{} // held by the one caller of the class computing its turn

	admitted, quota, cuts atomic.Uint64
}

// New returns a Pacer for cfg.
func New(cfg Config) *Pacer {
	p := &Pacer{t0: time.Now(), maxPause: cfg.MaxPause, changed: make(chan struct{})}
	if p.maxPause <= 0 {
		p.maxPause = DefaultMaxPause
	}
	for c, qps := range [numClasses]float64{Read: cfg.ReadQPS, Write: cfg.WriteQPS} {
		cs := &classState{class: Class(c), turn: make(chan struct{}, 1), g: newGroup(Class(c))}
		if qps > 0 && !math.IsInf(qps, 1) {
			cs.qps = qps
			cs.interval = time.Duration(float64(time.Second) / qps)
			cs.tau = time.Duration(max(1, int(qps/100))-1) * cs.interval
		}
		p.classes[c] = cs
		p.lims[c] = Limiter{p: p, cs: cs}
	}
	if cfg.State != nil {
		p.restore(*cfg.State)
	}
	return p
}

// Limiter is the handle of one class, for Do, Window and progress lines.
func (p *Pacer) Limiter(c Class) *Limiter {
	if c >= numClasses {
		panic(fmt.Sprintf("pace: unknown class %d", c))
	}
	return &p.lims[c]
}

func (p *Pacer) now() time.Duration {
	if p.clock != nil {
		return p.clock()
	}
	return time.Since(p.t0)
}

func (p *Pacer) wall(d time.Duration) time.Time { return p.t0.Add(d) }

// wake lets every waiting caller recompute its turn. Called with p.mu held.
func (p *Pacer) wake() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// ticket is one admitted call, for reporting its outcome.
type ticket struct {
	cs    *classState
	g     *group // the class's group when admitted
	at    time.Duration
	epoch uint64
	probe bool
}

// wait admits one call of cs. probeOK lets the call be a probe (see
// group.cut): only callers that report the outcome may be one.
func (p *Pacer) wait(ctx context.Context, cs *classState, probeOK bool) (ticket, error) {
	if p.static {
		return p.waitStatic(ctx, cs)
	}
	// One caller per class computes its turn; the others queue FIFO here,
	// so that a change of pace applies within one call.
	select {
	case cs.turn <- struct{}{}:
	case <-ctx.Done():
		return ticket{}, ctx.Err()
	}
	defer func() { <-cs.turn }()
	for {
		p.mu.Lock()
		now := p.now()
		g := cs.g
		if err := g.spentErr(p.wall(now), cs.class, nil); err != nil {
			p.mu.Unlock()
			return ticket{}, err
		}
		at, probe := p.earliest(cs, g, now, probeOK)
		if at <= now {
			if err := ctxDone(ctx); err != nil {
				p.mu.Unlock()
				return ticket{}, err
			}
			tk := p.admit(cs, g, now, probe)
			p.mu.Unlock()
			return tk, nil
		}
		wake := p.changed
		p.mu.Unlock()
		if _, err := sleepOrWake(ctx, at-now, wake); err != nil {
			return ticket{}, err
		}
	}
}

// earliest is when cs may next call, and whether that call is a probe.
func (p *Pacer) earliest(cs *classState, g *group, now time.Duration, probeOK bool) (time.Duration, bool) {
	at := now
	if cs.interval > 0 {
		at = max(at, cs.tat-cs.tau)
	}
	gate := g.gate(now)
	probe := false
	if h := g.hold; probeOK && h != nil && !h.inFlight && h.at <= gate {
		gate, probe = h.at, true
	}
	if gate > at {
		g.blocked = true // demand exceeds the pace: it may climb
		at = gate
	}
	return max(at, g.pauseUntil), probe
}

func (p *Pacer) admit(cs *classState, g *group, now time.Duration, probe bool) ticket {
	if cs.interval > 0 {
		cs.tat = max(cs.tat, now) + cs.interval
	}
	if g.pace > 0 {
		g.tat = max(g.tat, now) + g.interval
		g.climb(now)
	}
	g.push(now)
	if probe {
		g.hold.inFlight = true
	}
	cs.admitted.Add(1)
	return ticket{cs: cs, g: g, at: now, epoch: g.epoch, probe: probe}
}

// succeeded reports a call the server did not refuse for quota.
func (p *Pacer) succeeded(tk ticket) {
	if p.static || tk.cs == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g := tk.cs.g
	g.streak = 0
	if !g.probeOf(tk) {
		return
	}
	h := g.hold
	g.hold = nil
	switch {
	case h.quick > 0:
		// The window took a call right after the refusal: it was a lone
		// one (a fault, a glitch), not a full window. Undo the cut.
		g.setPace(h.prevEst, h.prevPace)
		g.climbed, g.cutAt, g.blindUntil = h.prevClimbed, -1, 0
	default:
		// The window renewed sooner than a rolling one would: it counts
		// fixed (wall-clock) windows, and what it held before is gone.
		g.forget(tk.at)
	}
	g.epoch++
	p.wake()
}

// abandoned reports a call whose outcome says nothing about the quota (a
// 5xx, a cut connection, a cancelled context).
func (p *Pacer) abandoned(tk ticket) {
	if p.static || tk.cs == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if g := tk.cs.g; g.probeOf(tk) {
		g.hold.inFlight = false // another call will probe
		p.wake()
	}
}

// rejected reports a quota error. It returns a *DailyQuotaError, wrapping
// cause, when the error says a daily quota is spent.
func (p *Pacer) rejected(tk ticket, v Verdict, cause error) error {
	if tk.cs == nil {
		return nil
	}
	tk.cs.quota.Add(1)
	if p.static {
		p.pauseStatic(v.After)
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.wake()
	now := p.now()
	cs := tk.cs
	g := cs.g
	g.remove(tk.at) // the server did not count it
	probe := g.probeOf(tk)
	if probe {
		g.hold.inFlight = false
	}
	if v.After > 0 {
		g.pauseUntil = max(g.pauseUntil, now+min(v.After, p.maxPause))
	}
	merged := false
	if lim := v.Limit; lim != nil {
		g, merged = p.join(cs, lim.Metric, now)
		if lim.coversAll() {
			// A limit on requests, not on reads or writes, counts every
			// call: the other classes share it before they meet it.
			for _, o := range p.classes {
				if o.g != g {
					g, merged = p.merge(o.g, g, now), true
				}
			}
		}
		if lim.budget() {
			g.spend(p.wall(now), *lim)
			return g.spentErr(p.wall(now), cs.class, cause)
		}
		g.learn(*lim)
	}
	details := v.Limit != nil && v.Limit.Value > 0
	g.streak++
	switch {
	case v.After > 0 && !details:
		// The server said when to come back: nothing to learn.
	case merged:
		// Two classes found to share one metric: one pace for what the
		// window holds of both.
		p.cut(cs, g, now, g.count(now, now), now, false)
	case tk.g != g:
		// Admitted before a merge: the merge's cut counted it.
	case tk.epoch != g.epoch:
		// Admitted before the last decision, which counted it. Refused
		// after it, as the window is full: worth a quick probe.
		g.refusedSince(tk.at, now)
		if h := g.hold; h != nil && h.quick > 0 {
			g.nextProbe(p.wall, now)
		}
	case probe:
		g.nextProbe(p.wall, now) // the window is as full as the cut said
	default:
		m := g.count(now, tk.at) // what the window held when the server said no
		switch {
		case g.climbed:
			// The pace went past what the server took before, from a
			// full window: back under.
			p.cut(cs, g, now, m, tk.at, false)
		case !details && p.blame(g, now):
			// Another class climbing past its estimate filled a window
			// that both may share: it goes back under.
		case g.pace == 0, float64(m) < Margin*float64(g.pace):
			// Nothing learned yet, or refused with fewer calls in the
			// window than the pace puts there: the limit is lower than
			// thought. Without details, it may also be a lone refusal,
			// which quick probes tell.
			p.cut(cs, g, now, m, tk.at, !details && g.streak < quickProbes)
		case g.streak >= quickProbes:
			// Refused again and again at the pace: not lone refusals (a
			// window counted fixed that a rolling count overrates).
			p.cut(cs, g, now, m, tk.at, false)
		default:
			// Refused with the window as full as the pace that the server
			// took for a whole window: a lone refusal (a fault, a glitch,
			// another client's burst).
		}
	}
	return nil
}

func (p *Pacer) cut(cs *classState, g *group, now time.Duration, held int, at time.Duration, doubt bool) {
	g.cut(p.wall, now, held, at, doubt)
	cs.cuts.Add(1)
}

// blame cuts the pace of another class that climbs past its estimate
// without details, when g is refused at or under its own pace: a limit
// that both share (which only details would name) explains that refusal.
// A lone refusal costs the climber its climb only.
func (p *Pacer) blame(g *group, now time.Duration) bool {
	for _, o := range p.classes {
		if og := o.g; og != g && og.climbed && og.lim.Value == 0 {
			p.cut(o, og, now, og.count(now, now), now, false)
			return true
		}
	}
	return false
}

// join makes cs share the group of any class whose quota errors named
// metric, and returns cs's group.
func (p *Pacer) join(cs *classState, metric string, now time.Duration) (*group, bool) {
	g := cs.g
	if metric == "" {
		return g, false
	}
	for _, o := range p.classes {
		if o.g != g && o.g.lim.Metric == metric {
			return p.merge(g, o.g, now), true
		}
	}
	g.lim.Metric = metric
	return g, false
}

// merge moves the classes of a into b and returns b.
func (p *Pacer) merge(a, b *group, now time.Duration) *group {
	for _, cs := range p.classes {
		if cs.g == a {
			cs.g = b
			b.classes[cs.class] = true
		}
	}
	b.absorb(a, now)
	return b
}

// Rate is the class's current pace in calls per second: its cap, or the
// learned pace when lower; 0 when neither limits it.
func (p *Pacer) Rate(c Class) float64 {
	return p.Limiter(c).Rate()
}

// ETA is how long reads more reads and writes more writes take at the
// learned pace when issued together (a plan's checks and an apply's sends
// come one after the other: add ETA(reads, 0) and ETA(0, writes)). A class
// that learned nothing yet is assumed to share AssumedPerMinute with the
// others that learned nothing; the QPS caps apply. A spent daily quota adds
// the wait for its reset.
func (p *Pacer) ETA(reads, writes int) time.Duration {
	if p.static {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	n := [numClasses]int{Read: reads, Write: writes}
	at := func(calls int, perWindow int64, w time.Duration) time.Duration {
		return time.Duration(float64(calls) * float64(w) / float64(perWindow))
	}
	groups := p.groups()
	calls := make([]int, len(groups))
	unlearned := 0 // calls of the classes that share the assumed quota
	var eta time.Duration
	for i, g := range groups {
		for _, cs := range p.classes {
			if cs.g != g {
				continue
			}
			calls[i] += n[cs.class]
			if cs.qps > 0 {
				eta = max(eta, time.Duration(float64(n[cs.class])/cs.qps*float64(time.Second)))
			}
		}
		if g.pace <= 0 {
			unlearned += calls[i]
		}
	}
	for i, g := range groups {
		d := at(unlearned, AssumedPerMinute, time.Minute)
		if g.pace > 0 {
			d = at(calls[i], g.pace, g.win)
		}
		if wait := g.spent.Sub(p.wall(now)); wait > 0 && calls[i] > 0 {
			d += wait
		}
		eta = max(eta, d)
	}
	return eta
}

// Describe says in words what the pacer learned, for a plan summary or a
// progress line: "60 requests per minute, shared by reads and writes",
// "about 118 requests per minute for reads (learned without Google's
// details)", "no quota learned yet for writes".
func (p *Pacer) Describe() string {
	if p.static {
		return "unlimited"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	wall := p.wall(p.now())
	var parts []string
	for _, g := range p.groups() {
		parts = append(parts, g.describe(wall))
	}
	return strings.Join(parts, "; ")
}

// Help is the link a quota error gave to ask for a higher limit, or "".
func (p *Pacer) Help() string {
	if p.static {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, g := range p.groups() {
		if g.lim.Help != "" {
			return g.lim.Help
		}
		if g.spentLimit.Help != "" {
			return g.spentLimit.Help
		}
	}
	return ""
}

// groups lists the distinct groups in class order. Called with p.mu held.
func (p *Pacer) groups() []*group {
	var gs []*group
	for _, cs := range p.classes {
		if !slices.Contains(gs, cs.g) {
			gs = append(gs, cs.g)
		}
	}
	return gs
}
