package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/samples"
)

type emulatorOptions struct {
	world string
	addr  string
	cfg   emulator.Config
}

func newEmulatorCmd(a *app) *cobra.Command {
	var o emulatorOptions
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve an in-memory Cloud Identity user-invitation API for tests and rehearsals",
		Long: `Serves the User Invitation API (v1 and v1beta1) from a world file until
interrupted, and prints its base URL on stdout. Point invitectl at it with
--endpoint URL --customer ID (or INVITECTL_ENDPOINT / INVITECTL_CUSTOMER).

GET /_emulator/state shows every account and the call counters;
POST /_emulator/reset reloads the world file.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEmulator(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.world, "world", "", "world file (JSON); default: the embedded samples/world.json")
	f.StringVar(&o.addr, "addr", "127.0.0.1:8085", "address to listen on")
	f.DurationVar(&o.cfg.Latency, "latency", 0, "latency added to every API call")
	f.DurationVar(&o.cfg.Jitter, "jitter", 0, "random extra latency, up to this much")
	f.Float64Var(&o.cfg.ReadQPS, "read-qps", 0, "read quota in requests per second (0: unlimited)")
	f.Float64Var(&o.cfg.WriteQPS, "write-qps", 0, "write quota in requests per second (0: unlimited)")
	f.Float64Var(&o.cfg.Fault429, "fault-429", 0, "probability of a 429 on each call")
	f.Float64Var(&o.cfg.Fault503, "fault-503", 0, "probability of a 503 before the change is applied")
	f.Float64Var(&o.cfg.Fault503After, "fault-503-after", 0, "probability of a 503 after the change was applied")
	f.Float64Var(&o.cfg.FaultReset, "fault-reset", 0, "probability of a connection reset without a response")
	f.Uint64Var(&o.cfg.Seed, "seed", 1, "seed of the fault and jitter dice")
	return cmd
}

func loadWorld(path string) (emulator.World, error) {
	if path == "" {
		return emulator.ParseWorld(samples.World, "samples/world.json (embedded)")
	}
	return emulator.LoadWorld(path)
}

func runEmulator(ctx context.Context, a *app, o emulatorOptions) error {
	for _, p := range []float64{o.cfg.Fault429, o.cfg.Fault503, o.cfg.Fault503After, o.cfg.FaultReset} {
		if p < 0 || p > 1 {
			return usagef("fault probabilities are between 0 and 1, got %v", p)
		}
	}
	world, err := loadWorld(o.world)
	if err != nil {
		return usageError{err}
	}
	o.cfg.Reload = func() (emulator.World, error) { return loadWorld(o.world) }
	srv, err := emulator.New(world, o.cfg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	url := "http://" + l.Addr().String()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintln(a.io.out, url)
	fmt.Fprintf(a.io.errOut, "emulator serving customer %s with %d accounts at %s (Ctrl-C to stop)\n  export INVITECTL_ENDPOINT=%s INVITECTL_CUSTOMER=%s\n",
		world.Customer, len(world.Users), url, url, world.Customer)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("emulator: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("emulator shutdown: %w", err)
	}
	return nil
}
