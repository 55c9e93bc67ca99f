package pace

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"
)

// A server enforcing its quota with a token bucket of one second's tokens,
// reached after a one-way network delay of up to 200 ms. After 30 s to
// settle, over one minute: at our own rate nothing is throttled; below it,
// AIMD keeps the server busy while few attempts are throttled.
func TestAgainstServerBucket(t *testing.T) {
	tests := []struct {
		name      string
		ours      float64
		server    float64
		minShare  float64 // of the server's rate, reached on average
		maxQuota  float64 // share of attempts throttled
		zeroQuota bool
	}{
		{name: "same rate", ours: 100, server: 100, minShare: 0.99, zeroQuota: true},
		{name: "same rate, fast", ours: 1000, server: 1000, minShare: 0.99, zeroQuota: true},
		{name: "server at 60%", ours: 100, server: 60, minShare: 0.8, maxQuota: 0.05},
		{name: "server at 10%", ours: 200, server: 20, minShare: 0.8, maxQuota: 0.05},
		{name: "server at 30%", ours: 100, server: 30, minShare: 0.8, maxQuota: 0.05},
		{name: "server at 2%", ours: 1000, server: 20, minShare: 0.8, maxQuota: 0.05},
		{name: "server at 90%", ours: 100, server: 90, minShare: 0.8, maxQuota: 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := NewLimiter(tt.ours)
				w := NewWindow(l, 2048)
				server := rate.NewLimiter(rate.Limit(tt.server), int(tt.server))
				jitter := SeededRand(7)
				from := time.Now().Add(30 * time.Second)
				var ok, throttled atomic.Int64
				call := func(ctx context.Context) error {
					time.Sleep(time.Duration(jitter() * float64(200*time.Millisecond)))
					counts := !time.Now().Before(from) && ctx.Err() == nil
					if !server.Allow() {
						if counts {
							throttled.Add(1)
						}
						time.Sleep(50 * time.Millisecond)
						return errQuota
					}
					if counts {
						ok.Add(1)
					}
					time.Sleep(100 * time.Millisecond)
					return nil
				}
				ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
				defer cancel()
				runPool(ctx, w, 2048, 0, from, call)
				perSec := float64(ok.Load()) / 60
				quota := float64(throttled.Load()) / float64(throttled.Load()+ok.Load())
				t.Logf("%.1f/s accepted (server %v/s), %.2f%% throttled, %d cuts", perSec, tt.server, 100*quota, l.Stats().Decreases)
				if perSec < tt.minShare*tt.server || perSec > tt.server*1.02 {
					t.Errorf("%.1f/s accepted, want %.0f%% of %v/s", perSec, 100*tt.minShare, tt.server)
				}
				if tt.zeroQuota && quota > 0 || quota > tt.maxQuota && !tt.zeroQuota {
					t.Errorf("%.2f%% of attempts throttled", 100*quota)
				}
			})
		})
	}
}
