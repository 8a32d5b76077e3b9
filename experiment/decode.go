package experiment

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tune-hpo/tune/trial/manifest"
)

// decoder turns a YAML node tree into JSON-compatible values shaped for a Go
// type, the way sigs.k8s.io/yaml does, but collecting every unknown field and
// type mismatch with its path and position instead of stopping at the first.
type decoder struct {
	file string
	errs []*FieldError

	// budget is how many more values the decoder may visit. Aliases make
	// a small document stand for an exponentially large tree (the "billion
	// laughs" attack); yaml.v3 guards against that only when it decodes
	// into Go values, not into the [yaml.Node] tree this decoder walks.
	budget int
	limit  int  // the initial budget
	depth  int  // nesting of the value being built
	capped bool // the budget or depth limit was hit and reported
}

// maxDepth is the deepest nesting of mappings and lists that the decoder
// follows. yaml.v3 refuses more than 10,000 nested block or flow levels in
// the text, but aliases can nest one deep structure inside another. A real
// experiment nests about 15 levels.
const maxDepth = 1000

// Visit budget: a document may expand, through aliases and merge keys, to
// at most aliasFactor times its own number of nodes plus aliasSlack values.
const (
	aliasFactor = 10
	aliasSlack  = 100_000
)

// newDecoder returns a decoder for the document whose root is root, with a
// visit budget set from its size.
func newDecoder(file string, root *yaml.Node) *decoder {
	limit := aliasFactor*countNodes(root) + aliasSlack
	return &decoder{file: file, budget: limit, limit: limit}
}

// countNodes returns the number of nodes in the tree under n, counting each
// alias once, without following it.
func countNodes(n *yaml.Node) int {
	count := 0
	stack := []*yaml.Node{n}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		count++
		stack = append(stack, n.Content...)
	}
	return count
}

// enter accounts for visiting n one level deeper and reports whether the
// decoder may go on; when it may not, it reports the problem once. Each
// successful enter must be paired with a call to leave.
func (d *decoder) enter(n *yaml.Node) bool {
	if d.capped {
		return false
	}
	d.budget--
	switch {
	case d.budget < 0:
		d.capped = true
		d.fail(n, "", "document contains excessive aliasing: it expands to more than %d values", d.limit)
		return false
	case d.depth >= maxDepth:
		d.capped = true
		d.fail(n, "", "document nests more than %d levels deep", maxDepth)
		return false
	}
	d.depth++
	return true
}

// leave ends a visit begun by enter.
func (d *decoder) leave() { d.depth-- }

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	fe := &FieldError{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		fe.Line, fe.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, fe)
}

// describe names a node's kind for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		case "!!null":
			return "null"
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "an unexpected node"
}

// describeType names a Go type the way a YAML author thinks of it.
func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	}
	return t.String()
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// pair is one key/value entry of a mapping node.
type pair struct{ key, value *yaml.Node }

// pairs returns the entries of mapping n, expanding YAML merge keys (<<)
// and reporting duplicate and non-string keys.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var out []pair
	seen := map[string]bool{}
	var add func(m *yaml.Node, merged bool)
	add = func(m *yaml.Node, merged bool) {
		if !d.enter(m) {
			return
		}
		defer d.leave()
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := resolve(m.Content[i]), m.Content[i+1]
			if !d.enter(k) {
				return
			}
			d.leave()
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				src := resolve(v)
				switch src.Kind {
				case yaml.MappingNode:
					add(src, true)
				case yaml.SequenceNode:
					for _, s := range src.Content {
						if s = resolve(s); s.Kind == yaml.MappingNode {
							add(s, true)
						}
					}
				}
				continue
			}
			if k.Kind != yaml.ScalarNode {
				d.fail(k, path, "mapping keys must be strings, got %s", describe(k))
				continue
			}
			if seen[k.Value] {
				if !merged {
					d.fail(k, child(path, k.Value), "duplicate key %q", k.Value)
				}
				continue
			}
			seen[k.Value] = true
			out = append(out, pair{k, v})
		}
	}
	add(n, false)
	return out
}

// build converts n into a JSON-compatible value for a Go value of type t.
// When coerce is set, numbers and booleans are accepted as strings, as
// sigs.k8s.io/yaml does. The second result is false when the value is
// unusable and must be left out.
func (d *decoder) build(n *yaml.Node, t reflect.Type, path string, coerce bool) (any, bool) {
	n = resolve(n)
	if n == nil || isNull(n) {
		return nil, true
	}
	if !d.enter(n) {
		return nil, false
	}
	defer d.leave()
	if t.Kind() != reflect.Pointer && manifest.DecodesItself(t) {
		v, ok := d.generic(n, path)
		if !ok {
			return nil, false
		}
		raw, err := json.Marshal(v)
		if err == nil {
			err = json.Unmarshal(raw, reflect.New(t).Interface())
		}
		if err != nil {
			d.fail(n, path, "%s is not a valid value: %s", describe(n), strings.TrimPrefix(err.Error(), "json: "))
			return nil, false
		}
		return v, true
	}
	switch t.Kind() {
	case reflect.Pointer:
		return d.build(n, t.Elem(), path, coerce)
	case reflect.Interface:
		return d.generic(n, path)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, "expected a mapping, got %s", describe(n))
			return nil, false
		}
		fields := manifest.Fields(t)
		out := map[string]any{}
		for _, p := range d.pairs(n, path) {
			f, ok := fields[p.key.Value]
			if !ok {
				d.fail(p.key, child(path, p.key.Value), "unknown field %q", p.key.Value)
				continue
			}
			if v, ok := d.build(p.value, f, child(path, p.key.Value), coerce); ok {
				out[p.key.Value] = v
			}
		}
		return out, true
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, "expected a mapping, got %s", describe(n))
			return nil, false
		}
		out := map[string]any{}
		for _, p := range d.pairs(n, path) {
			if v, ok := d.build(p.value, t.Elem(), child(path, p.key.Value), coerce); ok {
				out[p.key.Value] = v
			}
		}
		return out, true
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "expected a list, got %s", describe(n))
			return nil, false
		}
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			if v, ok := d.build(item, t.Elem(), index(path, i), coerce); ok {
				out = append(out, v)
			}
		}
		return out, true
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "expected %s, got %s", describeType(t), describe(n))
		return nil, false
	}
	tag := n.ShortTag()
	switch t.Kind() {
	case reflect.String:
		switch {
		case tag == "!!str", tag == "!!binary", tag == "!!timestamp":
			return n.Value, true
		case coerce && (tag == "!!int" || tag == "!!float" || tag == "!!bool"):
			return n.Value, true
		}
	case reflect.Bool:
		if tag == "!!bool" {
			var b bool
			if err := n.Decode(&b); err == nil {
				return b, true
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if tag == "!!int" {
			var i int64
			if err := n.Decode(&i); err == nil {
				if reflect.Zero(t).OverflowInt(i) {
					d.fail(n, path, "%s is out of range", n.Value)
					return nil, false
				}
				return i, true
			}
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if tag == "!!int" {
			var u uint64
			if err := n.Decode(&u); err == nil {
				if reflect.Zero(t).OverflowUint(u) {
					d.fail(n, path, "%s is out of range", n.Value)
					return nil, false
				}
				return u, true
			}
		}
	case reflect.Float32, reflect.Float64:
		if tag == "!!int" || tag == "!!float" {
			var f float64
			if err := n.Decode(&f); err == nil {
				if math.IsNaN(f) || math.IsInf(f, 0) {
					d.fail(n, path, "%s is not a finite number", n.Value)
					return nil, false
				}
				return f, true
			}
		}
	}
	d.fail(n, path, "expected %s, got %s", describeType(t), describe(n))
	return nil, false
}

// generic converts n into plain Go values: map[string]any, []any, string,
// int64, float64, bool and nil, as Kubernetes unstructured objects hold them.
func (d *decoder) generic(n *yaml.Node, path string) (any, bool) {
	n = resolve(n)
	if !d.enter(n) {
		return nil, false
	}
	defer d.leave()
	switch n.Kind {
	case yaml.MappingNode:
		out := map[string]any{}
		for _, p := range d.pairs(n, path) {
			if v, ok := d.generic(p.value, child(path, p.key.Value)); ok {
				out[p.key.Value] = v
			}
		}
		return out, true
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			if v, ok := d.generic(item, index(path, i)); ok {
				out = append(out, v)
			}
		}
		return out, true
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, true
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err == nil {
				return b, true
			}
		case "!!int":
			var i int64
			if err := n.Decode(&i); err == nil {
				return i, true
			}
			var f float64
			if err := n.Decode(&f); err == nil {
				return f, true
			}
		case "!!float":
			var f float64
			if err := n.Decode(&f); err == nil {
				if math.IsNaN(f) || math.IsInf(f, 0) {
					d.fail(n, path, "%s is not a finite number", n.Value)
					return nil, false
				}
				return f, true
			}
		default:
			return n.Value, true
		}
	}
	d.fail(n, path, "unsupported value %s", describe(n))
	return nil, false
}

// locate returns the position of path in the document's root mapping: the
// key of a mapping entry or the item of a list. When the path does not exist
// in full, it returns the position of its deepest existing ancestor.
func locate(root *yaml.Node, path string) (line, col int) {
	n := resolve(root)
	if n == nil {
		return 0, 0
	}
	line, col = n.Line, n.Column
	for _, s := range splitPath(path) {
		n = resolve(n)
		switch {
		case s.isIndex && n.Kind == yaml.SequenceNode && s.idx < len(n.Content):
			n = n.Content[s.idx]
			line, col = n.Line, n.Column
		case !s.isIndex && n.Kind == yaml.MappingNode:
			var found *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k := resolve(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == s.key {
					line, col = k.Line, k.Column
					found = n.Content[i+1]
				}
			}
			if found == nil {
				return line, col
			}
			n = found
		default:
			return line, col
		}
	}
	return line, col
}

// lookup returns the value node at path, or nil.
func lookup(root *yaml.Node, path string) *yaml.Node {
	n := resolve(root)
	for _, s := range splitPath(path) {
		if n == nil {
			return nil
		}
		switch {
		case s.isIndex && n.Kind == yaml.SequenceNode && s.idx < len(n.Content):
			n = resolve(n.Content[s.idx])
		case !s.isIndex && n.Kind == yaml.MappingNode:
			var found *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k := resolve(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == s.key {
					found = resolve(n.Content[i+1])
				}
			}
			n = found
		default:
			return nil
		}
	}
	return n
}
