package pace_test

import (
	"context"
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
	l := pace.NewLimiter(100)
	calls := 0
	attempts, err := pace.Do(context.Background(), l, pace.Policy{Base: time.Millisecond}, classify,
		func(context.Context) error {
			calls++
			if calls < 3 {
				return errThrottled
			}
			return nil
		})
	fmt.Println(attempts, err, l.Stats().QuotaEvents, l.Rate() < l.Target())
	// Output: 3 <nil> 2 true
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
