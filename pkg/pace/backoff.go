package pace

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Defaults of a Policy; a zero field takes its default, so Policy{} is a
// sensible policy and MaxAttempts: 1 disables retries.
const (
	DefaultBase          = 250 * time.Millisecond
	DefaultMax           = 30 * time.Second
	DefaultMaxAttempts   = 8
	DefaultMaxRetryAfter = 5 * time.Minute
)

// Policy is a capped exponential backoff with full jitter: the delay after
// the n-th failed attempt is uniform in [0, min(Max, Base·2^(n-1))). Full
// jitter spreads the retries of many workers best; the shared Limiter
// already spaces them, so a short draw costs nothing.
type Policy struct {
	Base        time.Duration // ceiling of the first delay
	Max         time.Duration // ceiling of any jittered delay
	MaxAttempts int           // attempts in all, the first included
	// MaxRetryAfter bounds how far a server's Retry-After may push a delay
	// past Max.
	MaxRetryAfter time.Duration
	// Rand returns a number in [0, 1); nil uses math/rand/v2. It must be
	// safe for concurrent use when the Policy is shared (see SeededRand).
	Rand func() float64
}

// Delay is how long to sleep after the attempt-th failed attempt (from 1).
// A positive retryAfter is a floor that wins over Max, up to MaxRetryAfter.
func (p Policy) Delay(attempt int, retryAfter time.Duration) time.Duration {
	p = p.withDefaults()
	d := time.Duration(p.Rand() * float64(p.ceiling(attempt)))
	if retryAfter > 0 {
		d = max(d, min(retryAfter, p.MaxRetryAfter))
	}
	return d
}

// ceiling is min(Max, Base·2^(attempt-1)) without overflowing.
func (p Policy) ceiling(attempt int) time.Duration {
	c := min(p.Base, p.Max)
	for i := 1; i < attempt && c < p.Max; i++ {
		if c > p.Max/2 {
			return p.Max
		}
		c *= 2
	}
	return c
}

// Attempts is the effective MaxAttempts.
func (p Policy) Attempts() int { return p.withDefaults().MaxAttempts }

func (p Policy) withDefaults() Policy {
	if p.Base <= 0 {
		p.Base = DefaultBase
	}
	if p.Max <= 0 {
		p.Max = DefaultMax
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if p.Rand == nil {
		p.Rand = rand.Float64
	}
	return p
}

// SeededRand returns a deterministic source for Policy.Rand, safe for
// concurrent use.
func SeededRand(seed uint64) func() float64 {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
}
