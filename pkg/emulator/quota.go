package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // days of the daily quota end at midnight Pacific time on any machine
)

// QuotaWindow is how a per-minute limit counts calls.
type QuotaWindow string

// The per-minute windows.
const (
	// WindowRolling admits a call when fewer than the limit were admitted in
	// the 60 seconds before it.
	WindowRolling QuotaWindow = "rolling"
	// WindowFixed counts calls per wall-clock minute (UTC), so a burst at
	// the end of one minute and another at the start of the next both pass.
	WindowFixed QuotaWindow = "fixed"
)

// Quota is the request limits of the API, enforced the way Google's API
// front end enforces quota: per minute per user, per day per project, a 429
// RESOURCE_EXHAUSTED whose google.rpc.ErrorInfo names the limit and its
// value, and a google.rpc.Help link, with no Retry-After. A rejected call
// does not count against any window (Google counts the requests it
// admits). Google publishes no quota for this API; one administrator
// reported 60 requests per minute that could not be raised
// (taers232c/GAMADV-XTD3 issue 223). Zero limits are off.
type Quota struct {
	// RequestsPerMinute limits every method together (one metric,
	// cloudidentity.googleapis.com/requests, limit RequestsPerMinutePerUser).
	RequestsPerMinute int
	// ReadsPerMinute limits isInvitableUser, get and list (metric
	// cloudidentity.googleapis.com/read_requests, limit
	// ReadsPerMinutePerUser).
	ReadsPerMinute int
	// WritesPerMinute limits send and cancel (metric
	// cloudidentity.googleapis.com/write_requests, limit
	// WritesPerMinutePerUser).
	WritesPerMinute int
	// RequestsPerDay limits every method per project (metric
	// cloudidentity.googleapis.com/requests, limit
	// RequestsPerDayPerProject). Days end at midnight Pacific time, when
	// Google resets daily quotas.
	RequestsPerDay int
	// Window is how the per-minute limits count: rolling (the default) or
	// fixed.
	Window QuotaWindow
	// Project is the consumer's project number in messages and metadata;
	// "" means 100000000001.
	Project string
	// Bare answers quota errors with a 429 without details (no ErrorInfo,
	// no Help), as some Google front ends do: a client must then learn the
	// limit from what the window held.
	Bare bool
}

// On reports whether any limit is set.
func (q Quota) On() bool {
	return q.RequestsPerMinute > 0 || q.ReadsPerMinute > 0 || q.WritesPerMinute > 0 || q.RequestsPerDay > 0
}

func (q Quota) validate() error {
	switch q.Window {
	case "", WindowRolling, WindowFixed:
	default:
		return fmt.Errorf("quota window %q: want rolling or fixed", q.Window)
	}
	if q.RequestsPerMinute < 0 || q.ReadsPerMinute < 0 || q.WritesPerMinute < 0 || q.RequestsPerDay < 0 {
		return fmt.Errorf("quota limits must not be negative")
	}
	return nil
}

func (q Quota) project() string {
	if q.Project == "" {
		return "100000000001"
	}
	return q.Project
}

// String renders the quota in the form ParseQuota reads.
func (q Quota) String() string {
	var parts []string
	add := func(prefix string, n int, unit string) {
		if n > 0 {
			parts = append(parts, prefix+strconv.Itoa(n)+"/"+unit)
		}
	}
	add("", q.RequestsPerMinute, "min")
	add("reads=", q.ReadsPerMinute, "min")
	add("writes=", q.WritesPerMinute, "min")
	add("", q.RequestsPerDay, "day")
	if q.Window == WindowFixed {
		parts = append(parts, "window=fixed")
	}
	if q.Bare {
		parts = append(parts, "details=none")
	}
	return strings.Join(parts, ",")
}

// ParseQuota reads a quota such as "60/min", "10000/day",
// "reads=60/min,writes=30/min" or "120/min,window=fixed": comma-separated
// limits, each N/min or N/day with an optional reads=, writes= or
// requests= (the default) before it; reads and writes are per minute only.
// "details=none" makes the 429s bare (Quota.Bare). "" is no quota.
func ParseQuota(s string) (Quota, error) {
	var q Quota
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if item == "details=none" {
			q.Bare = true
			continue
		}
		if w, ok := strings.CutPrefix(item, "window="); ok {
			q.Window = QuotaWindow(w)
			if err := q.validate(); err != nil {
				return Quota{}, err
			}
			continue
		}
		class, rest, hasClass := strings.Cut(item, "=")
		if !hasClass {
			class, rest = "requests", item
		}
		num, unit, ok := strings.Cut(rest, "/")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n <= 0 {
			return Quota{}, fmt.Errorf("quota %q: %q is not N/min or N/day with N a positive integer", s, item)
		}
		var dst *int
		switch unit = strings.ToLower(unit); {
		case unit == "min" || unit == "minute":
			switch class {
			case "requests":
				dst = &q.RequestsPerMinute
			case "reads":
				dst = &q.ReadsPerMinute
			case "writes":
				dst = &q.WritesPerMinute
			}
		case (unit == "day" || unit == "d") && class == "requests":
			dst = &q.RequestsPerDay
		}
		if dst == nil {
			return Quota{}, fmt.Errorf("quota %q: %q: want N/min, N/day, reads=N/min or writes=N/min", s, item)
		}
		*dst = n
	}
	return q, nil
}

// limit is one quota limit as the 429 names it.
type limit struct {
	name       string // quota_limit
	metric     string // quota_metric
	metricName string // the metric's display name, in the message
	limitName  string // the limit's display name, in the message
	value      int
	reads      bool // counts isInvitableUser, get, list
	writes     bool // counts send, cancel
	day        bool // per day per project; otherwise per minute per user
}

const service = "cloudidentity.googleapis.com"

var (
	limitRequests = limit{name: "RequestsPerMinutePerUser", metric: service + "/requests", metricName: "Requests",
		limitName: "Requests per minute per user", reads: true, writes: true}
	limitReads = limit{name: "ReadsPerMinutePerUser", metric: service + "/read_requests", metricName: "Read requests",
		limitName: "Read requests per minute per user", reads: true}
	limitWrites = limit{name: "WritesPerMinutePerUser", metric: service + "/write_requests", metricName: "Write requests",
		limitName: "Write requests per minute per user", writes: true}
	limitDay = limit{name: "RequestsPerDayPerProject", metric: service + "/requests", metricName: "Requests",
		limitName: "Requests per day per project", reads: true, writes: true, day: true}
)

// limits lists the limits that are on, in the order a call is checked: the
// day first, since waiting for a minute does not help when it is spent.
func (q Quota) limits() []limit {
	var ls []limit
	for _, l := range []struct {
		l limit
		n int
	}{{limitDay, q.RequestsPerDay}, {limitRequests, q.RequestsPerMinute}, {limitReads, q.ReadsPerMinute}, {limitWrites, q.WritesPerMinute}} {
		if l.n > 0 {
			l.l.value = l.n
			ls = append(ls, l.l)
		}
	}
	return ls
}

func (l limit) covers(write bool) bool { return write && l.writes || !write && l.reads }

// windowKey is one limit's counter for one user ("" for a per-project
// limit, or when calls carry no identity).
type windowKey struct {
	limit int
	user  string
}

// window counts the calls one limit admitted.
type window struct {
	times []time.Time // rolling: admission times within the last minute
	start time.Time   // fixed and daily: the current period's start
	n     int
}

var pacific = mustLocation("America/Los_Angeles")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is embedded
	}
	return loc
}

// period returns the start of the fixed period that holds now.
func (l limit) period(now time.Time) time.Time {
	if l.day {
		y, m, d := now.In(pacific).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, pacific)
	}
	return now.Truncate(time.Minute)
}

// room reports whether the window can admit one more call at now.
func (w *window) room(l limit, rolling bool, now time.Time) bool {
	if rolling && !l.day {
		cut := now.Add(-time.Minute)
		i := 0
		for i < len(w.times) && !w.times[i].After(cut) {
			i++
		}
		w.times = w.times[i:]
		return len(w.times) < l.value
	}
	if p := l.period(now); !p.Equal(w.start) {
		w.start, w.n = p, 0
	}
	return w.n < l.value
}

func (w *window) take(l limit, rolling bool, now time.Time) {
	if rolling && !l.day {
		w.times = append(w.times, now)
		return
	}
	w.n++
}

// admit charges the call to every limit that covers it, or to none when one
// of them is spent, which it returns. The caller's identity keys the
// per-user limits.
func (s *Server) admit(c call, user string) *limit {
	now := s.now()
	rolling := s.cfg.Quota.Window != WindowFixed
	s.mu.Lock()
	defer s.mu.Unlock()
	type charge struct {
		w *window
		l limit
	}
	var charges []charge
	for i := range s.limits {
		l := &s.limits[i]
		if !l.covers(c.write()) {
			continue
		}
		key := windowKey{i, user}
		if l.day {
			key.user = ""
		}
		w := s.windows[key]
		if w == nil {
			w = &window{}
			s.windows[key] = w
		}
		if !w.room(*l, rolling, now) {
			s.reject(c, l)
			return l
		}
		charges = append(charges, charge{w, *l})
	}
	for _, ch := range charges {
		ch.w.take(ch.l, rolling, now)
	}
	return nil
}

func (s *Server) reject(c call, l *limit) {
	class := "read"
	if c.write() {
		class = "write"
	}
	s.quota[class]++
	s.quotaBy[l.name]++
}

// writeQuota writes Google's 429 for a spent limit, as in this example of
// issue 9 (the shape of every Google API behind its front end):
// RESOURCE_EXHAUSTED, an ErrorInfo with the limit's metadata and a Help
// link; no Retry-After header.
func (s *Server) writeQuota(w http.ResponseWriter, l *limit) {
	if s.cfg.Quota.Bare {
		writeBareQuota(w)
		return
	}
	project := s.cfg.Quota.project()
	msg := fmt.Sprintf("Quota exceeded for quota metric '%s' and limit '%s' of service '%s' for consumer 'project_number:%s'.",
		l.metricName, l.limitName, service, project)
	writeError(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", msg,
		map[string]any{
			"@type":  "type.googleapis.com/google.rpc.ErrorInfo",
			"reason": "RATE_LIMIT_EXCEEDED",
			"domain": "googleapis.com",
			"metadata": map[string]string{
				"quota_metric":      l.metric,
				"quota_limit":       l.name,
				"quota_limit_value": strconv.Itoa(l.value),
				"quota_location":    "global",
				"consumer":          "projects/" + project,
				"service":           service,
			},
		},
		map[string]any{
			"@type": "type.googleapis.com/google.rpc.Help",
			"links": []map[string]string{{
				"description": "Request a higher quota limit.",
				"url":         "https://cloud.google.com/docs/quotas/help/request_increase",
			}},
		})
}

// writeBareQuota writes a 429 without details, the shape of the injected
// fault: a client must cope with a quota error that names no limit.
func writeBareQuota(w http.ResponseWriter) {
	writeError(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")
}
