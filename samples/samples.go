// Package samples embeds the sample emulator world, so that `invitectl
// emulator` and --sandbox work from any directory.
package samples

import _ "embed"

// World is samples/world.json: a few hundred accounts of customer C03abc123
// across every kind and state, recent ones included.
//
//go:embed world.json
var World []byte
