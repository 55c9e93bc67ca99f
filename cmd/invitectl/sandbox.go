package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/pflag"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/words"
)

// registerSandboxFlags adds the global --sandbox flags.
func registerSandboxFlags(f *pflag.FlagSet, o *globalOptions) {
	f.BoolVar(&o.sandbox, "sandbox", false, "run against an in-process emulator seeded from samples/world.json: no Google account needed, nothing leaves the machine")
	f.StringVar(&o.sandboxWorld, "sandbox-world", "", "world file for --sandbox (default: the embedded samples/world.json)")
	durationVar(f, &o.sandboxLatency, "sandbox-latency", 20*time.Millisecond, "latency of the --sandbox emulator's calls")
	f.Var(quotaFlag{&o.sandboxQuota}, "sandbox-quota", "quota of the --sandbox emulator, to rehearse a real pace: 60/min, 10000/day, reads=N/min,writes=M/min, window=fixed, details=none (429s without the ErrorInfo); comma-separated (default: none)")
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

// startSandbox serves the --sandbox emulator on a loopback port and points
// the client at it, once, at the first call: a command that stops at a
// mistake in its arguments prints no banner. Its state lives as long as
// this command. Without --sandbox it does nothing.
func (a *app) startSandbox() error {
	if a.world == nil || a.sandboxURL != "" {
		return nil
	}
	world := *a.world
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
	a.sandboxURL = "http://" + l.Addr().String()
	a.opts.endpoint = a.sandboxURL
	quota := ""
	if a.opts.sandboxQuota.On() {
		quota = ", quota " + a.opts.sandboxQuota.String()
	}
	fmt.Fprintf(a.io.errOut, "sandbox: emulated customer %s with %s at %s%s; nothing leaves this machine\n",
		world.Customer, words.Count(int64(len(world.Users)), "account", "accounts"), a.opts.endpoint, quota)
	return nil
}
