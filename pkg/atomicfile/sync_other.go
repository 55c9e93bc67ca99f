//go:build !windows

package atomicfile

func isWindowsDirSync(error) bool { return false }
