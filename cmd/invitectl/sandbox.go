package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/pflag"

	"github.com/invitectl/invitectl/pkg/emulator"
)

// registerSandboxFlags adds the global --sandbox flags.
func registerSandboxFlags(f *pflag.FlagSet, o *globalOptions) {
	f.BoolVar(&o.sandbox, "sandbox", false, "run against an in-process emulator seeded from samples/world.json: no Google account needed, nothing leaves the machine")
	f.StringVar(&o.sandboxWorld, "sandbox-world", "", "world file for --sandbox (default: the embedded samples/world.json)")
	durationVar(f, &o.sandboxLatency, "sandbox-latency", 20*time.Millisecond, "latency of the --sandbox emulator's calls")
	f.Var(quotaFlag{&o.sandboxQuota}, "sandbox-quota", "quota of the --sandbox emulator, to rehearse a real pace: 60/min, 10000/day, reads=N/min,writes=M/min, window=fixed; comma-separated (default: none)")
}

// quotaFlag is a flag holding an emulator quota in ParseQuota's form.
type quotaFlag struct{ q *emulator.Quota }

func (f quotaFlag) String() string {
	if f.q == nil {
		return ""
	}
	return f.q.String()
}

func (f quotaFlag) Set(s string) error {
	q, err := emulator.ParseQuota(s)
	if err != nil {
		return err
	}
	*f.q = q
	return nil
}

func (quotaFlag) Type() string { return "quota" }

// startSandbox serves an in-process emulator on a loopback port and points
// the client at it. Its state lives as long as this command.
func (a *app) startSandbox() error {
	world, err := loadWorld(a.opts.sandboxWorld)
	if err != nil {
		return usageError{err}
	}
	srv, err := emulator.New(world, emulator.Config{Latency: a.opts.sandboxLatency, Jitter: a.opts.sandboxLatency / 2, Seed: 1,
		Quota: a.opts.sandboxQuota})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(l) }()
	a.cleanup = append(a.cleanup, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	})
	a.opts.endpoint = "http://" + l.Addr().String()
	if a.opts.customer == "" {
		a.opts.customer = world.Customer
	}
	quota := ""
	if a.opts.sandboxQuota.On() {
		quota = ", quota " + a.opts.sandboxQuota.String()
	}
	fmt.Fprintf(a.io.errOut, "sandbox: emulated customer %s with %d accounts at %s%s; nothing leaves this machine\n",
		world.Customer, len(world.Users), a.opts.endpoint, quota)
	return nil
}
