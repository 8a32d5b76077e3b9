// Package didyoumean picks, among the names a field or command accepts, the
// one a user most likely meant when they wrote an unknown name.
package didyoumean

import (
	"strings"

	"github.com/agnivade/levenshtein"
)

// Closest returns the candidate nearest to name, and whether one is near
// enough to suggest. Names are compared case-insensitively; a candidate is
// near enough when its edit distance (Levenshtein) to name is at most 1
// for a name of up to 3 characters and otherwise at most
// min(3, max(2, len(name)/3)), or when one of the two is a prefix of the
// other and the shorter has at least 3 characters. Ties go to the earlier
// candidate. An empty name, or one equal to a candidate, has no suggestion.
func Closest(name string, candidates []string) (string, bool) {
	n := strings.ToLower(name)
	if n == "" {
		return "", false
	}
	limit := 1
	if l := len([]rune(n)); l > 3 {
		limit = min(3, max(2, l/3))
	}
	best, bestD := "", -1
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if c == name {
			return "", false
		}
		d := levenshtein.ComputeDistance(n, lc)
		if d > limit && !prefixed(n, lc) {
			continue
		}
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best, bestD >= 0
}

// prefixed reports whether one of a and b starts with the other, the
// shorter having at least 3 characters.
func prefixed(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return len(a) >= 3 && strings.HasPrefix(b, a)
}

// Hint returns `; did you mean "X"?` for the candidate [Closest] picks,
// or "" when there is none.
func Hint(name string, candidates []string) string {
	if c, ok := Closest(name, candidates); ok {
		return `; did you mean "` + c + `"?`
	}
	return ""
}
