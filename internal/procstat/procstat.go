// Package procstat reads what benchmarks of long campaigns measure of their
// own process on Linux: the peak resident set and the CPU time.
package procstat

import (
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// Settle collects garbage, returns the freed memory to the OS and reports
// the resident set in MiB, so that a peak measured next starts from what
// is live.
func Settle() float64 {
	runtime.GC()
	debug.FreeOSMemory()
	return procStatusMiB("VmRSS")
}

// ResetPeak restarts VmHWM, the peak resident set, from the current one
// (Linux clear_refs "5"); elsewhere it does nothing.
func ResetPeak() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// PeakMiB is the peak resident set since ResetPeak, in MiB; 0 when it
// cannot be read (not Linux).
func PeakMiB() float64 { return procStatusMiB("VmHWM") }

// CPUSeconds is the CPU time the process has used, user and system, from
// /proc/self/stat (in ticks of 1/100 s); 0 when it cannot (not Linux).
func CPUSeconds() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// The fields after the command (in parentheses, which may hold spaces):
	// utime and stime are the 12th and 13th.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100
}

// procStatusMiB reads a kB field of /proc/self/status in MiB; 0 when it
// cannot (not Linux).
func procStatusMiB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}
