package pace

import (
	"context"
	"testing"
)

// The hot path of a 2,000 items/s executor and of a 1M-address planner:
// what pace costs per admitted call when it does not need to wait.

func BenchmarkLimiterUnlimited(b *testing.B) {
	l := NewLimiter(0)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A rate far above what the loop reaches: the cost of pacing itself.
func BenchmarkLimiterPaced(b *testing.B) {
	l := NewLimiter(1e9)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDoParallel(b *testing.B) {
	l := NewLimiter(0)
	ctx := context.Background()
	ok := func(context.Context) error { return nil }
	b.ReportAllocs()
	b.SetParallelism(64)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := Do(ctx, l, Policy{}, classify, ok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDoParallelPaced(b *testing.B) {
	l := NewLimiter(1e9)
	ctx := context.Background()
	ok := func(context.Context) error { return nil }
	b.ReportAllocs()
	b.SetParallelism(64)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := Do(ctx, l, Policy{}, classify, ok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkWindowDoParallel(b *testing.B) {
	w := NewWindow(NewLimiter(0), 256)
	ctx := context.Background()
	ok := func(context.Context) error { return nil }
	b.ReportAllocs()
	b.SetParallelism(64)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := w.Do(ctx, Policy{}, classify, ok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
