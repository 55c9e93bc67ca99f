// Package pace paces the API calls of a run: one shared, adaptive rate
// limiter (Limiter), a backoff policy with jitter that honours Retry-After
// (Policy), a retry loop (Do), and a window that keeps just enough calls in
// progress to reach the rate at the current latency (Window).
//
// pace knows nothing about any API: callers pass a Classifier that turns
// their errors into a Verdict (retry, quota, Retry-After).
//
// # Using it
//
// Make one Limiter and one Window per run and start a pool of the window's
// maximum size. Each worker takes an item and runs Window.Do; every attempt
// holds a slot while it waits on the limiter and while the call runs, so
// workers beyond Size() simply queue, and a backoff sleep holds no slot:
//
//	l := pace.NewLimiter(50)   // calls/s; <= 0 is unlimited
//	w := pace.NewWindow(l, 256) // at most 256 attempts in progress
//	var wg sync.WaitGroup
//	for range 256 {
//		wg.Go(func() {
//			for item := range items {
//				n, err := w.Do(ctx, pace.Policy{}, classify, func(ctx context.Context) error {
//					return client.Send(ctx, item)
//				})
//				results <- result{item, n, err}
//			}
//		})
//	}
//	wg.Wait()
//
// Code with no window (a single loop, a list of pages) calls
// pace.Do(ctx, l, policy, classify, call) with the same Limiter, so every
// call of the run shares one rate. A progress line can show l.Rate(),
// l.Stats(), l.PausedUntil(), w.Size() and w.InFlight().
package pace
