// Package duration reads the durations administrators write: Go's syntax
// (36h, 90m, 1h30m) and days, which Go's syntax lacks (7d, 1d12h, 1.5d).
// Every duration flag of invitectl and the plan file's durations go through
// Parse, so "7d" means the same everywhere.
package duration

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Day is the length of the "d" unit: 24 hours. Calendar days are not
// meant: a reminder "every 7d" is 168 hours, whatever the clocks do.
const Day = 24 * time.Hour

// Parse reads a duration in Go's syntax (time.ParseDuration) in which any
// term may also be in days: "7d", "1d12h", "1.5d", "-2d". The error names
// the text and the accepted forms.
func Parse(s string) (time.Duration, error) {
	text := strings.TrimSpace(s)
	body, sign := text, time.Duration(1)
	switch {
	case strings.HasPrefix(body, "-"):
		body, sign = body[1:], -1
	case strings.HasPrefix(body, "+"):
		body = body[1:]
	}
	if !strings.Contains(body, "d") {
		d, err := time.ParseDuration(text)
		if err != nil {
			return 0, invalid(s)
		}
		return d, nil
	}
	var days float64
	var rest strings.Builder
	for i := 0; i < len(body); {
		j := i
		for j < len(body) && (body[j] >= '0' && body[j] <= '9' || body[j] == '.') {
			j++
		}
		k := j
		for k < len(body) && !(body[k] >= '0' && body[k] <= '9' || body[k] == '.') {
			k++
		}
		if j == i || k == j {
			return 0, invalid(s) // a unit without a number, or a number without a unit
		}
		if body[j:k] == "d" {
			n, err := strconv.ParseFloat(body[i:j], 64)
			if err != nil {
				return 0, invalid(s)
			}
			days += n
		} else {
			rest.WriteString(body[i:k])
		}
		i = k
	}
	total := days * float64(Day)
	if rest.Len() > 0 {
		d, err := time.ParseDuration(rest.String())
		if err != nil {
			return 0, invalid(s)
		}
		total += float64(d)
	}
	if total > math.MaxInt64 {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	return sign * time.Duration(math.Round(total)), nil
}

func invalid(s string) error {
	return fmt.Errorf("invalid duration %q: want a number and a unit, such as 7d, 36h, 1d12h, 90m or 30s", s)
}

// Format writes d as Parse reads it, in days where it has whole ones and
// without zero terms: 168h is "7d", 36h "1d12h", 90s "1m30s", 20ms "20ms".
func Format(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	sign := ""
	if d < 0 {
		if d == math.MinInt64 {
			return d.String()
		}
		sign, d = "-", -d
	}
	days := d / Day
	rest := d % Day
	out := ""
	if days > 0 {
		out = strconv.FormatInt(int64(days), 10) + "d"
	}
	if rest > 0 {
		r := rest.String()
		if strings.HasSuffix(r, "m0s") {
			r = strings.TrimSuffix(r, "0s")
		}
		if strings.HasSuffix(r, "h0m") {
			r = strings.TrimSuffix(r, "0m")
		}
		out += r
	}
	return sign + out
}

// Value is a flag (a pflag.Value) holding a duration that Parse reads;
// its default shows as Format writes it.
type Value struct{ d *time.Duration }

// NewValue makes a flag value that stores into p, set to def.
func NewValue(p *time.Duration, def time.Duration) Value {
	*p = def
	return Value{p}
}

// String is the current value, as Format writes it.
func (v Value) String() string {
	if v.d == nil {
		return ""
	}
	return Format(*v.d)
}

// Set parses s.
func (v Value) Set(s string) error {
	d, err := Parse(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

// Type names the value in help text.
func (Value) Type() string { return "duration" }
