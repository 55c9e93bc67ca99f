package pace

import (
	"slices"
	"time"
)

// State is what a Pacer learned, small enough to keep in a journal and a
// plan as JSON, so that the next run (resume, the apply after a plan)
// starts from the pace that worked rather than from the caps:
//
//	{"quotas":[{"classes":["read","write"],"metric":"cloudidentity.googleapis.com/requests",
//	  "name":"RequestsPerMinutePerUser","value":60,"window_s":60,"estimate":60,"pace":58,
//	  "help":"https://cloud.google.com/docs/quotas/help/request_increase"}]}
type State struct {
	Quotas []Learned `json:"quotas,omitempty"`
}

// Learned is one limit: the classes that share it and what is known of it.
type Learned struct {
	Classes []Class `json:"classes"`
	Metric  string  `json:"metric,omitempty"`
	Name    string  `json:"name,omitempty"`
	// Value is the limit's value that Google gave, per window; 0 when the
	// quota errors gave none.
	Value int64 `json:"value,omitempty"`
	// WindowSeconds is the window the limit counts, in seconds.
	WindowSeconds int64 `json:"window_s"`
	// Estimate is how many calls the window held when the server last
	// refused one; Pace is how many per window the pacer admits.
	Estimate int64  `json:"estimate,omitempty"`
	Pace     int64  `json:"pace,omitempty"`
	Help     string `json:"help,omitempty"`
	// SpentUntil is when a spent daily quota (named SpentLimit) is
	// available again.
	SpentUntil time.Time `json:"spent_until,omitzero"`
	SpentLimit string    `json:"spent_limit,omitempty"`
}

// State exports what the pacer learned; the zero State when nothing.
func (p *Pacer) State() State {
	if p.static {
		return State{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var st State
	for _, g := range p.groups() {
		if g.pace <= 0 && g.lim.Metric == "" && g.spent.IsZero() {
			continue
		}
		pace := g.pace
		if g.climbed && g.est > 0 {
			// Climbing past the estimate is a probe: the next run starts
			// from the pace that held.
			pace = min(pace, max(1, int64(float64(g.est)*Margin)))
		}
		q := Learned{Metric: g.lim.Metric, Name: g.lim.Name, Value: g.lim.Value, WindowSeconds: int64(g.win / time.Second),
			Estimate: g.est, Pace: pace, Help: g.lim.Help, SpentUntil: g.spent, SpentLimit: g.spentLimit.Name}
		for c, in := range g.classes {
			if in {
				q.Classes = append(q.Classes, Class(c))
			}
		}
		st.Quotas = append(st.Quotas, q)
	}
	return st
}

// restore starts from what an earlier run learned. A quota naming no known
// class is ignored; a class named twice keeps the first.
func (p *Pacer) restore(st State) {
	taken := [numClasses]bool{}
	for _, q := range st.Quotas {
		g := &group{win: assumedWindow, cutAt: -1}
		for _, c := range q.Classes {
			if c < numClasses && !taken[c] {
				taken[c] = true
				g.classes[c] = true
				p.classes[c].g = g
			}
		}
		if !slices.Contains(g.classes[:], true) {
			continue
		}
		if q.WindowSeconds > 0 {
			g.win = time.Duration(q.WindowSeconds) * time.Second
			g.lim.Window = g.win
		}
		g.lim.Metric, g.lim.Name, g.lim.Help = q.Metric, q.Name, q.Help
		g.lim.Value = max(q.Value, 0)
		pace := max(q.Pace, 0)
		if g.lim.Value > 0 {
			pace = min(pace, max(1, int64(float64(g.lim.Value)*Margin)))
		}
		g.setPace(max(q.Estimate, 0), pace)
		g.spent = q.SpentUntil
		if !g.spent.IsZero() {
			g.spentLimit = Limit{Metric: q.Metric, Name: q.SpentLimit, Help: q.Help, Window: 24 * time.Hour}
		}
	}
}
