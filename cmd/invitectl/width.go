package main

import (
	"strconv"

	"github.com/invitectl/invitectl/pkg/table"
)

// width is how wide tables on stdout may be: $COLUMNS when the shell
// exports it, else 80.
func (a *app) width() int {
	if n, err := strconv.Atoi(a.io.getenv("COLUMNS")); err == nil && n >= 40 {
		return n
	}
	return table.DefaultWidth
}
