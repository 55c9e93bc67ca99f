package pace_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invitectl/invitectl/pkg/pace"
)

// errThrottled stands for what the API package classifies as a 429.
var errThrottled = errors.New("429 too many requests")

func classify(err error) pace.Verdict {
	if errors.Is(err, errThrottled) {
		return pace.Verdict{Quota: true, After: time.Millisecond}
	}
	return pace.Verdict{}
}

// A worker pool: as many workers as the window's maximum, each attempt
// holding a slot while it waits on the limiter and while it runs.
func Example() {
	ctx := context.Background()
	l := pace.NewLimiter(0) // unlimited here; a run passes its --rate
	w := pace.NewWindow(l, 16)

	items := make(chan int)
	go func() {
		defer close(items)
		for i := range 100 {
			items <- i
		}
	}()

	var sent, failed atomic.Int64
	var throttledOnce sync.Once
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for item := range items {
				_, err := w.Do(ctx, pace.Policy{Base: time.Millisecond}, classify, func(ctx context.Context) error {
					var err error
					if item == 7 {
						throttledOnce.Do(func() { err = errThrottled })
					}
					return err // the API call
				})
				if err != nil {
					failed.Add(1)
					continue
				}
				sent.Add(1)
			}
		})
	}
	wg.Wait()
	fmt.Printf("sent %d, failed %d, quota events %d, in flight %d\n",
		sent.Load(), failed.Load(), l.Stats().QuotaEvents, w.InFlight())
	// Output: sent 100, failed 0, quota events 1, in flight 0
}

func ExampleDo() {
	l := pace.NewLimiter(0) // unlimited: learns nothing, honours Retry-After
	calls := 0
	attempts, err := pace.Do(context.Background(), l, pace.Policy{Base: time.Millisecond}, classify,
		func(context.Context) error {
			calls++
			if calls < 3 {
				return errThrottled
			}
			return nil
		})
	fmt.Println(attempts, err, l.Stats().QuotaEvents)
	// Output: 3 <nil> 2
}

// A run that resumes from what an earlier one learned (its journal keeps
// the State as JSON): reads and writes share 60 requests per minute.
func ExamplePacer() {
	var st pace.State
	_ = json.Unmarshal([]byte(`{"quotas":[{"classes":["read","write"],"metric":"cloudidentity.googleapis.com/requests",`+
		`"name":"RequestsPerMinutePerUser","value":60,"window_s":60,"estimate":60,"pace":58}]}`), &st)
	p := pace.New(pace.Config{ReadQPS: 25, WriteQPS: 10, State: &st})
	fmt.Println(p.Describe())
	fmt.Printf("%.3f calls/s\n", p.Rate(pace.Write))
	fmt.Println("1,000 sends:", p.ETA(0, 1000).Round(time.Minute))
	// Output:
	// 60 requests per minute (RequestsPerMinutePerUser), shared by reads and writes
	// 0.967 calls/s
	// 1,000 sends: 17m0s
}

func ExamplePolicy_Delay() {
	p := pace.Policy{Base: 100 * time.Millisecond, Max: 2 * time.Second, Rand: pace.SeededRand(1)}
	for attempt := 1; attempt <= 4; attempt++ {
		fmt.Println(p.Delay(attempt, 0) < 100*time.Millisecond<<(attempt-1))
	}
	fmt.Println(p.Delay(1, 30*time.Second)) // Retry-After wins over Max
	// Output:
	// true
	// true
	// true
	// true
	// 30s
}
