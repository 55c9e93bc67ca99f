package pace

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limit is what a quota error says about the quota it hit. Google's 429
// carries it in its ErrorInfo metadata (quota_metric, quota_limit,
// quota_limit_value) and a Help link, without Retry-After; the caller's API
// package reads it. The zero value says nothing.
type Limit struct {
	// Metric names what the quota counts ("cloudidentity.googleapis.com/
	// read_requests"): classes whose calls hit the same metric share one
	// limit, and from then on one pace.
	Metric string
	// Name is the limit's name, such as "ReadsPerMinutePerUser".
	Name string
	// Value is the number of calls allowed per Window; 0 when unknown.
	Value int64
	// Window is the limit's unit: time.Minute, 100*time.Second, or
	// 24*time.Hour for a daily quota; 0 when unknown. A window of an hour or
	// more is a budget, not a pace: reaching it stops the class (see
	// DailyQuotaError).
	Window time.Duration
	// Help is where to ask for a higher limit.
	Help string
}

// budget reports a limit that is spent rather than paced.
func (l Limit) budget() bool { return l.Window >= time.Hour }

// coversAll reports a limit on every call rather than on one class: Google
// counts those in the service's plain requests metric
// (cloudidentity.googleapis.com/requests), against read_requests and
// write_requests.
func (l Limit) coversAll() bool {
	return strings.HasSuffix(l.Metric, "/requests")
}

// Class is a kind of call, paced on its own until a quota error shows it
// shares its limit with another class.
type Class uint8

// The classes of the User Invitation API's calls.
const (
	Read  Class = iota // isInvitableUser, get, list
	Write              // send, cancel
	numClasses
)

var classNames = [numClasses]string{Read: "read", Write: "write"}

func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// MarshalText writes "read" or "write".
func (c Class) MarshalText() ([]byte, error) {
	if c >= numClasses {
		return nil, fmt.Errorf("unknown call class %d", c)
	}
	return []byte(c.String()), nil
}

// UnmarshalText reads "read" or "write".
func (c *Class) UnmarshalText(b []byte) error {
	for i, n := range classNames {
		if string(b) == n {
			*c = Class(i)
			return nil
		}
	}
	return fmt.Errorf("unknown call class %q (want read or write)", b)
}

// unitWords names a window for people: "minute", "100 seconds", "day".
func unitWords(w time.Duration) string {
	switch w {
	case time.Second:
		return "second"
	case time.Minute:
		return "minute"
	case time.Hour:
		return "hour"
	case 24 * time.Hour:
		return "day"
	}
	if w%time.Second == 0 {
		return strconv.FormatInt(int64(w/time.Second), 10) + " seconds"
	}
	return w.String()
}

// pacific is where Google's daily quotas end: several of its APIs document
// a reset at midnight Pacific time (the Analytics and YouTube Data API
// quota pages); this one documents none.
var pacific = func() *time.Location {
	if loc, err := time.LoadLocation("America/Los_Angeles"); err == nil {
		return loc
	}
	return time.FixedZone("PST", -8*3600)
}()

// resetAfter is when a budget spent at now is available again: the next
// midnight Pacific time for a daily quota, else a full window later.
func resetAfter(now time.Time, w time.Duration) time.Time {
	if w != 24*time.Hour {
		return now.Add(w)
	}
	t := now.In(pacific)
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, pacific)
}
