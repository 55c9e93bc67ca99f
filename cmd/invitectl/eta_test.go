package main

import (
	"testing"
	"time"
)

// The progress ETA takes the pacer's estimate (which assumes Google's
// lowest quota until a 429 says otherwise) or the time at the measured
// rate, whichever is shorter.
func TestFasterETA(t *testing.T) {
	for _, tc := range []struct {
		paced time.Duration
		left  int64
		rate  float64
		want  time.Duration
	}{
		{36 * time.Minute, 2000, 10, 200 * time.Second}, // faster than assumed
		{10 * time.Second, 100, 1, 10 * time.Second},    // slower: a 429's limit holds
		{time.Minute, 60, 0, time.Minute},               // no rate measured yet
	} {
		if got := fasterETA(tc.paced, tc.left, tc.rate); got != tc.want {
			t.Errorf("fasterETA(%v, %d, %v) = %v, want %v", tc.paced, tc.left, tc.rate, got, tc.want)
		}
	}
}
