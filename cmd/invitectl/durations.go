package main

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/invitectl/invitectl/pkg/duration"
)

// durationVar defines a duration flag that also reads days (7d, 1d12h):
// every duration flag of invitectl is made here, so that they all read
// the same syntax as the plan file does.
func durationVar(fs *pflag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	fs.Var(duration.NewValue(p, def), name, usage)
}
