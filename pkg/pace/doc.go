// Package pace paces the API calls of a run: a Pacer that learns the quota
// the server enforces and paces each class of calls just under it
// (Limiter is one class's handle), a backoff policy with jitter that
// honours Retry-After (Policy), a retry loop (Do), and a window that keeps
// just enough calls in progress to reach the pace at the current latency
// (Window).
//
// pace knows nothing about any API: callers pass a Classifier that turns
// their errors into a Verdict (retry, quota, and what a quota error says of
// its limit: Verdict.Limit).
//
// # Using it
//
// Make one Pacer per run, from the administrator's caps and what the last
// run learned, and one Window per pool of workers. Each worker takes an
// item and runs Window.Do; every attempt holds a slot while it waits on
// the pacer and while the call runs, so workers beyond Size() simply
// queue, and a backoff sleep holds no slot:
//
//	p := pace.New(pace.Config{ReadQPS: 25, WriteQPS: 10, State: journal.Pace})
//	w := pace.NewWindow(p.Limiter(pace.Write), 256)
//	var wg sync.WaitGroup
//	for range 256 {
//		wg.Go(func() {
//			for item := range items {
//				n, err := w.Do(ctx, pace.Policy{}, classify, func(ctx context.Context) error {
//					return client.Send(ctx, item)
//				})
//				var daily *pace.DailyQuotaError
//				if errors.As(err, &daily) {
//					// leave the item pending: nothing goes before daily.Until
//				}
//				results <- result{item, n, err}
//			}
//		})
//	}
//	wg.Wait()
//	journal.Pace = p.State() // for the next run
//
// Code with no window (a single loop, a list of pages) calls
// pace.Do(ctx, p.Limiter(pace.Read), policy, classify, call). A plan
// summary or a progress line shows p.Describe() ("60 requests per minute,
// shared by reads and writes"), p.Rate(class), p.ETA(reads, writes),
// p.Help(), and per class Limiter.Stats() and Limiter.PausedUntil().
package pace
