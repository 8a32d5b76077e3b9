package experiment

import (
	"regexp"
	"strconv"
	"strings"
)

// Field paths use Katib's notation: dotted JSON names and [i] indexes, such
// as spec.parameters[1].feasibleSpace.min. A map key that is not a plain
// identifier is written quoted in brackets: metadata.labels["app.kubernetes.io/name"].

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// child returns the path of key under path.
func child(path, key string) string {
	if !plainKey.MatchString(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// index returns the path of element i of the list at path.
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// segment is one step of a path: a map key, or a list index when isIndex.
type segment struct {
	key     string
	idx     int
	isIndex bool
}

// splitPath parses a path written by child and index. It stops at the
// first malformed part.
func splitPath(path string) []segment {
	var segs []segment
	for path != "" {
		switch path[0] {
		case '.':
			path = path[1:]
		case '[':
			end := strings.IndexByte(path, ']')
			if len(path) > 1 && path[1] == '"' {
				q, err := strconv.QuotedPrefix(path[1:])
				if err != nil {
					return segs
				}
				key, _ := strconv.Unquote(q)
				segs = append(segs, segment{key: key})
				path = strings.TrimPrefix(path[1+len(q):], "]")
				continue
			}
			if end < 0 {
				return segs
			}
			i, err := strconv.Atoi(path[1:end])
			if err != nil {
				return segs
			}
			segs = append(segs, segment{idx: i, isIndex: true})
			path = path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			segs = append(segs, segment{key: path[:end]})
			path = path[end:]
		}
	}
	return segs
}

// related reports whether one of the paths contains the other.
func related(p, q string) bool {
	if len(p) > len(q) {
		p, q = q, p
	}
	if !strings.HasPrefix(q, p) {
		return false
	}
	return len(q) == len(p) || p == "" || q[len(p)] == '.' || q[len(p)] == '['
}
