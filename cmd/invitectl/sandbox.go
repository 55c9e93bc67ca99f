package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
)

// startSandbox serves an in-process emulator on a loopback port and points
// the client at it. Its state lives as long as this command.
func (a *app) startSandbox() error {
	world, err := loadWorld(a.opts.sandboxWorld)
	if err != nil {
		return usageError{err}
	}
	srv, err := emulator.New(world, emulator.Config{Latency: a.opts.sandboxLatency, Jitter: a.opts.sandboxLatency / 2, Seed: 1})
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
	fmt.Fprintf(a.io.errOut, "sandbox: emulated customer %s with %d accounts at %s; nothing leaves this machine\n",
		world.Customer, len(world.Users), a.opts.endpoint)
	return nil
}
