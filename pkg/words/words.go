// Package words writes counts as people read them: a number and the noun
// that agrees with it.
package words

import "strconv"

// Count is n and its noun, which agree: "1 row", "0 rows", "2 rows".
func Count[N ~int | ~int64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(int64(n), 10) + " " + many
}
