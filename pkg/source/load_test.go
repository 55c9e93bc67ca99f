package source

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestLoadReplays checks that Load keeps every target of every fixture as
// Read yields it, in order, however often it is replayed.
func TestLoadReplays(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.*"))
	// Many rows that chunks must split, with repeats far from their first.
	var big strings.Builder
	big.WriteString("email,action,note\n")
	for i := range 60_000 {
		fmt.Fprintf(&big, "user%d@example.org,%s,%s\n", i%40_000, []string{"", "invite", "cancel", "x"}[i%4],
			[]string{"", "\u200b"}[i%2])
		if i%1000 == 0 {
			big.WriteString(",note without an address\n")
		}
	}
	inputs := map[string]func(fn func(Target) error) (Info, error){
		"big": func(fn func(Target) error) (Info, error) {
			return Read(strings.NewReader(big.String()), "big.csv", Options{}, fn)
		},
	}
	for _, f := range files {
		inputs[f] = func(fn func(Target) error) (Info, error) { return ReadFile(f, Options{}, fn) }
	}
	for name, read := range inputs {
		t.Run(filepath.Base(name), func(t *testing.T) {
			var want []Target
			wantInfo, wantErr := read(func(tg Target) error {
				want = append(want, tg)
				return nil
			})
			l, err := Load(read)
			if wantErr != nil {
				if err == nil || err.Error() != wantErr.Error() {
					t.Fatalf("Load error %v, want %v", err, wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(l.Info(), wantInfo) {
				t.Errorf("Info %+v, want %+v", l.Info(), wantInfo)
			}
			for range 2 {
				i := 0
				info, err := l.Each(func(tg Target) error {
					if i >= len(want) || !reflect.DeepEqual(tg, want[i]) {
						t.Fatalf("replayed target %d = %+v, want %+v", i, tg, want[min(i, len(want)-1)])
					}
					i++
					return nil
				})
				if err != nil || i != len(want) || !reflect.DeepEqual(info, wantInfo) {
					t.Fatalf("replayed %d of %d targets, Info %+v, err %v", i, len(want), info, err)
				}
			}
		})
	}
}

func TestLoadEachStops(t *testing.T) {
	l, err := Load(func(fn func(Target) error) (Info, error) { return ReadFile("testdata/action.csv", Options{}, fn) })
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	n := 0
	if _, err := l.Each(func(Target) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Each = %v after %d targets, want the callback's error after 1", err, n)
	}
}
