package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/invitations"
)

// outcome is one address's answer in get, check, send and cancel.
type outcome struct {
	Email   string `json:"email"`
	Outcome string `json:"outcome"`
	Detail  string `json:"detail,omitempty"`
	failed  bool
	cause   error
}

// perAddress runs fn for every address argument in order, printing one line
// per address. It stops at once on an authentication failure; other failures
// are printed and make the command exit 3.
func perAddress(ctx context.Context, a *app, emails []string, format string, readOnly bool,
	fn func(context.Context, invitations.Client, string) outcome) error {
	if err := checkFormat(format, "table", "json"); err != nil {
		return err
	}
	normalized := make([]string, len(emails))
	for i, e := range emails {
		n, err := invitations.NormalizeEmail(e)
		if err != nil {
			return usagef("argument %d: %v", i+1, err)
		}
		normalized[i] = n
	}
	c, err := a.client(ctx, readOnly)
	if err != nil {
		return err
	}
	var results []outcome
	failed := 0
	for _, e := range normalized {
		o := fn(ctx, c, e)
		if o.failed {
			failed++
		}
		if format == "table" {
			fmt.Fprintln(a.io.out, strings.TrimRight(fmt.Sprintf("%-40s %-14s %s", o.Email, o.Outcome, o.Detail), " "))
		}
		results = append(results, o)
		if invitations.IsAuth(o.cause) || invitations.IsDenied(o.cause) {
			return o.cause
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if format == "json" {
		b, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(a.io.out, string(b))
	}
	if failed > 0 {
		return partialError{failed}
	}
	return nil
}

func failure(email string, err error) outcome {
	return outcome{Email: email, Outcome: "error", Detail: err.Error(), failed: true, cause: err}
}

func newEachCmd(a *app, use, short string, readOnly bool, fn func(context.Context, invitations.Client, string) outcome) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   use + " EMAIL...",
		Short: short,
		Args:  usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return perAddress(cmd.Context(), a, args, format, readOnly, fn)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output: table or json")
	return cmd
}
