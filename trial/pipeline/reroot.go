package pipeline

import (
	"sort"
	"strings"
)

// rewriter replaces declared container paths in strings by their host
// paths: whole-path or path-prefix matches at path boundaries (the match
// is not preceded by a path character and is followed by the end, a "/"
// or a character that cannot be part of a path name), longest first.
type rewriter struct {
	paths  []string // container paths, longest first
	hostOf func(string) string
}

func newRewriter(ms []pathMap, hostOf func(string) string) *rewriter {
	seen := map[string]bool{}
	var ps []string
	for _, m := range ms {
		if !seen[m.container] && m.container != "/" {
			seen[m.container] = true
			ps = append(ps, m.container)
		}
	}
	sort.Slice(ps, func(i, j int) bool { return len(ps[i]) > len(ps[j]) })
	return &rewriter{paths: ps, hostOf: hostOf}
}

// pathChar reports whether c can be part of a path name.
func pathChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '/' || c == '~'
}

func (rw *rewriter) rewrite(s string) string {
	if len(rw.paths) == 0 || !strings.Contains(s, "/") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '/' && (i == 0 || !pathChar(s[i-1])) {
			if p := rw.match(s[i:]); p != "" {
				b.WriteString(rw.hostOf(p))
				i += len(p)
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// match returns the longest declared path s starts with at a boundary.
func (rw *rewriter) match(s string) string {
	for _, p := range rw.paths {
		if strings.HasPrefix(s, p) && (len(s) == len(p) || s[len(p)] == '/' || !pathChar(s[len(p)])) {
			return p
		}
	}
	return ""
}
