//go:build race

package source

// raceEnabled says the race detector is on: it makes reading millions of
// rows ten times slower, and proves nothing more there.
const raceEnabled = true
