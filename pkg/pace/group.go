package pace

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/invitectl/invitectl/pkg/words"
)

// group is the pace of the classes that share one limit. Its fields are
// guarded by the Pacer's mutex.
type group struct {
	classes  [numClasses]bool
	lim      Limit         // what quota errors said: metric, name, value, help
	win      time.Duration // the window counted: the limit's, or assumedWindow
	est      int64         // calls the window held when the server last said no; 0 unknown
	pace     int64         // calls admitted per window; 0: no learned pace
	interval time.Duration // win/pace: calls are spread evenly
	tat      time.Duration // the next even slot (GCRA with a burst of 1)

	log  []time.Duration // admission times of the last window's calls not refused, oldest first
	head int             // log[head:] is live

	// held is what the window held at the last cut, less the calls of
	// then that the server refused afterwards (a burst's calls in flight
	// come back refused after the first one).
	held      int64
	cutAt     time.Duration // -1 when held no longer follows
	epoch     uint64        // bumped by each decision: older refusals are accounted for
	changedAt time.Duration // last cut or climb
	climbs    int
	climbed   bool // the pace went past the last cut's
	patience  int  // windows after a cut before the pace climbs: doubles while climbs are refused
	streak    int  // refusals since the last call the server took
	blocked   bool // a caller waited for the pace since the last change

	pauseUntil time.Duration // a Retry-After
	blindUntil time.Duration // the end of a window that holds calls we did not see
	hold       *hold

	spent      time.Time // a daily quota reached: nothing goes before this
	spentLimit Limit
}

// hold is a cut whose wait for the window is being probed: one call at a
// time goes early. If a quick probe (after a refusal without details)
// passes, the refusal was a lone one and the cut is undone; if a later
// probe passes, the server's window renewed sooner than a rolling one
// would (at a wall-clock boundary, or an unseen window's calls left) and
// what it held before is forgotten.
type hold struct {
	prevEst, prevPace int64
	prevClimbed       bool
	at                time.Duration // when the next probe may go
	quick             int           // quick probes still to be refused before the cut is believed
	gap               time.Duration // the gap to the probe after the next; 0: boundaries only
	inFlight          bool
}

func newGroup(c Class) *group {
	g := &group{win: assumedWindow, cutAt: -1}
	g.classes[c] = true
	return g
}

func (g *group) live() []time.Duration { return g.log[g.head:] }

// prune forgets calls that left the window.
func (g *group) prune(now time.Duration) {
	l := g.live()
	g.head += g.start(l, now)
	if g.head > 1024 && g.head > len(g.log)/2 {
		g.log = g.log[:copy(g.log, g.live())]
		g.head = 0
	}
}

func (g *group) push(now time.Duration) {
	g.prune(now)
	if len(g.live()) >= maxLog {
		g.head++
	}
	g.log = append(g.log, now)
}

// remove forgets one call admitted at at (several may share an instant).
func (g *group) remove(at time.Duration) {
	l := g.live()
	if i := sort.Search(len(l), func(i int) bool { return l[i] >= at }); i < len(l) && l[i] == at {
		g.log = slices.Delete(g.log, g.head+i, g.head+i+1)
	}
}

// forget drops the calls admitted before at: the server's window renewed.
func (g *group) forget(at time.Duration) {
	l := g.live()
	g.head += sort.Search(len(l), func(i int) bool { return l[i] >= at })
	g.cutAt, g.blindUntil = -1, 0
}

// start is the index in l of the first call of the window ending at now.
func (g *group) start(l []time.Duration, now time.Duration) int {
	return sort.Search(len(l), func(i int) bool { return l[i] > now-g.win })
}

// count is the number of calls, taken or in flight, admitted in the window
// ending at now and no later than upTo.
func (g *group) count(now, upTo time.Duration) int {
	l := g.live()
	hi := sort.Search(len(l), func(i int) bool { return l[i] > upTo })
	return max(0, hi-g.start(l, now))
}

// windowFree is when the window can take one more call at the pace: now,
// or when enough of its oldest calls have left it.
func (g *group) windowFree(now time.Duration) time.Duration {
	if g.pace <= 0 {
		return 0
	}
	l := g.live()
	lo := g.start(l, now)
	if n := int64(len(l) - lo); n >= g.pace {
		return l[lo+int(n-g.pace)] + g.win
	}
	return 0
}

// gate is when the pace lets the next call go: its next even slot, or
// when the window can take one more.
func (g *group) gate(now time.Duration) time.Duration {
	return max(g.tat, g.windowFree(now), g.blindUntil)
}

func (g *group) setPace(est, pace int64) {
	g.est, g.pace = est, pace
	g.interval = 0
	if pace > 0 {
		g.interval = g.win / time.Duration(pace)
	} else {
		g.tat = 0
	}
}

// setHeld paces at Margin of what the window held (at most the limit's
// value when known).
func (g *group) setHeld() {
	est := max(g.held, 1)
	if g.lim.Value > 0 {
		est = min(est, g.lim.Value)
	}
	g.setPace(est, max(1, int64(float64(est)*Margin)))
}

// cut sets the pace from a window the server found full with held of our
// calls, admitted up to at. Nothing goes until the window can take a call
// again; when that is far, a probe may go first (see hold). In doubt (no
// details), quick probes must be refused before the cut is believed. now
// counts from the Pacer's start.
func (g *group) cut(wall func(time.Duration) time.Time, now time.Duration, held int, at time.Duration, doubt bool) {
	h := &hold{prevEst: g.est, prevPace: g.pace, prevClimbed: g.climbed}
	if g.climbed {
		g.patience = min(max(2*g.patience, 2), maxPatience) // the limit is where it was
	}
	if doubt {
		h.quick = quickProbes
	}
	g.epoch++
	g.changedAt, g.climbs, g.blocked, g.climbed = now, 0, false, false
	g.hold, g.blindUntil, g.cutAt = h, 0, -1
	switch v := g.lim.Value; {
	case v > 0 && float64(held) < float64(v)*Margin:
		// Full with fewer of ours than Google's limit: the window holds
		// calls we did not see (an earlier run's, another client's), all
		// gone within a window. Until then nothing goes but a probe now
		// and then; the limit is Google's value.
		g.blindUntil = now + g.win
		if now < g.win {
			g.blindUntil = g.win // an earlier run's calls: gone a window after this run began
		}
		held, h.gap = int(min(v, math.MaxInt32)), blindProbe
	case v == 0 && now < g.win:
		// The first window of this run may hold an earlier run's calls,
		// all gone one window after this run began: nothing goes until
		// then (but a probe after a wall-clock boundary). What the window
		// held of ours is a first estimate, which the climb corrects;
		// too few of ours say nothing.
		g.blindUntil = g.win
		if held < minLearn {
			g.schedule(wall, now)
			return
		}
	}
	g.held, g.cutAt = int64(max(held, 1)), at
	g.setHeld()
	g.tat = now + g.interval
	g.schedule(wall, now)
}

// schedule sets when the hold's next probe may go: soon while quick probes
// are due; at growing gaps in a window we could not see; else after the
// next wall-clock boundary of the window. No probe when the pace lets a
// call go before it.
func (g *group) schedule(wall func(time.Duration) time.Time, now time.Duration) {
	h := g.hold
	switch {
	case h.quick > 0:
		h.at = min(now+firstProbe, max(g.gate(now), now)) // the next call is the probe
		return
	case h.gap > 0:
		h.at = min(now+h.gap, g.boundary(wall, now))
		h.gap *= 4
	default:
		h.at = g.boundary(wall, now)
	}
	if h.at >= g.gate(now) {
		g.hold = nil
	}
}

// refusedSince corrects the last cut for a call admitted before it and
// refused after it: the window held one call fewer than counted.
func (g *group) refusedSince(at, now time.Duration) {
	if g.cutAt < 0 || at > g.cutAt || now-g.cutAt >= g.win || g.held <= 1 {
		return
	}
	g.held--
	g.setHeld()
}

// nextProbe follows a refused probe: the window was full, as the cut said.
func (g *group) nextProbe(wall func(time.Duration) time.Time, now time.Duration) {
	g.hold.quick = max(g.hold.quick-1, 0)
	g.schedule(wall, now)
}

// boundary is just after the next wall-clock boundary of the window, when
// a server counting fixed windows takes calls again.
func (g *group) boundary(wall func(time.Duration) time.Time, now time.Duration) time.Duration {
	w := wall(now)
	return now + w.Truncate(g.win).Add(g.win+boundarySkew).Sub(w)
}

// probeOf reports whether tk is the hold's probe in flight.
func (g *group) probeOf(tk ticket) bool {
	return tk.probe && tk.g == g && g.hold != nil && g.hold.inFlight && tk.epoch == g.epoch
}

// climb raises the pace a little after a whole window without refusal in
// which callers waited for it (after a cut, after patience windows: 1, then
// 2, 4... 16 while each climb is refused at the same limit): 1% of it (at
// least 1), then 2% (2), 4% (4)... up to Margin of the
// limit's value when known. Without it, this is how the pace finds the
// limit again after a lower estimate (another client's calls, a window
// counted short).
func (g *group) climb(now time.Duration) {
	wait := g.win
	if !g.climbed {
		wait *= time.Duration(max(g.patience, 1))
	}
	if !g.blocked || g.hold != nil || now-g.changedAt < wait || now < g.pauseUntil ||
		int64(g.count(now, now)) < g.pace-1 {
		return // not a whole window of calls at the pace
	}
	if g.climbed && g.pace > g.est {
		// A whole window past the estimate without a refusal: the limit
		// is higher.
		g.est, g.patience = g.pace, 1
	}
	ceiling := int64(math.MaxInt64)
	if g.lim.Value > 0 {
		ceiling = max(1, int64(float64(g.lim.Value)*Margin))
	}
	if g.pace >= ceiling {
		return
	}
	step := max(1<<g.climbs, g.pace<<g.climbs/100)
	g.setPace(g.est, min(ceiling, g.pace+step))
	g.climbs = min(g.climbs+1, maxClimbs)
	g.changedAt, g.blocked, g.climbed = now, false, true
}

// learn keeps what a quota error said of a paced limit.
func (g *group) learn(lim Limit) {
	g.lim.Name = cmp.Or(lim.Name, g.lim.Name)
	g.lim.Help = cmp.Or(lim.Help, g.lim.Help)
	if lim.Value > 0 {
		g.lim.Value = lim.Value
	}
	if lim.Window > 0 && lim.Window != g.win {
		g.win, g.lim.Window = lim.Window, lim.Window
		g.setPace(g.est, g.pace)
	}
}

// absorb takes over a's calls and learning; the caller cuts next.
func (g *group) absorb(a *group, now time.Duration) {
	g.prune(now)
	a.prune(now)
	g.log = slices.Sorted(slices.Values(slices.Concat(g.live(), a.live())))
	g.head = 0
	g.lim.Metric = cmp.Or(g.lim.Metric, a.lim.Metric)
	g.lim.Name = cmp.Or(g.lim.Name, a.lim.Name)
	g.lim.Help = cmp.Or(g.lim.Help, a.lim.Help)
	g.lim.Value = cmp.Or(g.lim.Value, a.lim.Value)
	if g.win == assumedWindow {
		g.win = a.win
	}
	g.lim.Window = cmp.Or(g.lim.Window, a.lim.Window)
	g.pauseUntil = max(g.pauseUntil, a.pauseUntil)
	g.tat = max(g.tat, a.tat)
	if a.spent.After(g.spent) {
		g.spent, g.spentLimit = a.spent, a.spentLimit
	}
	g.hold = nil
	g.epoch++
	a.epoch++
}

// spend records a daily quota reached at wall time now.
func (g *group) spend(now time.Time, lim Limit) {
	if t := resetAfter(now, lim.Window); t.After(g.spent) {
		g.spent, g.spentLimit = t, lim
	}
}

// spentErr is the error of a call of class c at wall time now while a
// daily quota is spent, or nil.
func (g *group) spentErr(now time.Time, c Class, cause error) error {
	if !now.Before(g.spent) {
		return nil
	}
	return &DailyQuotaError{Class: c, Limit: g.spentLimit, Until: g.spent, Err: cause}
}

// scope names the classes of the group: "reads", "reads and writes".
func (g *group) scope() string {
	switch {
	case g.classes[Read] && g.classes[Write]:
		return "reads and writes"
	case g.classes[Read]:
		return "reads"
	}
	return "writes"
}

func (g *group) describe(now time.Time) string {
	if now.Before(g.spent) {
		return fmt.Sprintf("daily quota reached for %s; resume after %s", g.scope(), g.spent.Local().Format("2006-01-02 15:04 MST"))
	}
	if g.pace <= 0 {
		return "no quota learned yet for " + g.scope()
	}
	var s string
	if g.lim.Value > 0 {
		s = words.Count(g.lim.Value, "request", "requests") + " per " + unitWords(g.win)
		if g.lim.Name != "" {
			s += " (" + g.lim.Name + ")"
		}
	} else {
		s = "about " + words.Count(max(g.est, g.pace), "request", "requests") + " per " + unitWords(g.win)
	}
	if g.classes[Read] && g.classes[Write] {
		s += ", shared by reads and writes"
	} else {
		s += " for " + g.scope()
	}
	if g.lim.Value == 0 {
		s += " (learned from quota errors without Google's details)"
	}
	return s
}
