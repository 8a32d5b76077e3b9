package enas

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/internal/pyjson"
)

// MaxOperations bounds the number of concrete operations a nasConfig may
// expand into; the controller holds an embedding row and a softmax column
// per operation.
const MaxOperations = 10000

// MaxLayers bounds graphConfig.numLayers: a pass of the controller costs
// time in the square of the layers (each layer attends to every earlier
// one).
const MaxLayers = 1000

// Operation is one concrete operation of the search space: an
// operationType of the nasConfig with one value for each of its
// parameters. Its ID is its index in [Expand]'s result.
type Operation struct {
	ID     int
	Type   string
	Params []OpParam
}

// OpParam is one parameter value of an [Operation]. Value is a string for
// categorical and discrete parameters (as the experiment writes it), an
// int for int parameters and a float64 for double ones.
type OpParam struct {
	Name  string
	Value any
}

// Expand returns the concrete operations of nas as Katib's ENAS service
// numbers them (Operation.py): each operationType in order expands into the
// cartesian product of its parameters' values, the last parameter varying
// fastest. A categorical parameter takes its list; an int parameter
// Min, Min+Step, … up to Max (Step 1 when none is given); a double
// parameter Min + k·Step up to Max (a step is required). A discrete
// parameter takes its list as categorical does (Katib's service leaves it
// out of the operation). A parameter named twice keeps its first position
// and its last values, as a Python dict does. It is an error when nas is
// nil, a double parameter has no positive step, or the expansion is empty
// or exceeds [MaxOperations].
func Expand(nas *suggest.NASConfig) ([]Operation, error) {
	if nas == nil {
		return nil, fmt.Errorf("no nasConfig: enas searches spec.nasConfig")
	}
	var out []Operation
	for _, op := range nas.Operations {
		var names []string
		values := map[string][]any{}
		for _, p := range op.Parameters {
			vals, err := paramValues(p)
			if err != nil {
				return nil, fmt.Errorf("operation %q: parameter %q: %w", op.Type, p.Name, err)
			}
			if _, ok := values[p.Name]; !ok {
				names = append(names, p.Name)
			}
			values[p.Name] = vals
		}
		count := 1
		for _, n := range names {
			count *= len(values[n])
			if count == 0 || len(out)+count > MaxOperations {
				break
			}
		}
		if len(out)+count > MaxOperations {
			return nil, fmt.Errorf("nasConfig expands into more than %d operations", MaxOperations)
		}
		idx := make([]int, len(names))
		for range count {
			o := Operation{ID: len(out), Type: op.Type, Params: make([]OpParam, len(names))}
			for i, n := range names {
				o.Params[i] = OpParam{Name: n, Value: values[n][idx[i]]}
			}
			out = append(out, o)
			for i := len(idx) - 1; i >= 0; i-- { // odometer, last fastest
				idx[i]++
				if idx[i] < len(values[names[i]]) {
					break
				}
				idx[i] = 0
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("nasConfig has no operations")
	}
	return out, nil
}

// paramValues lists the values p takes in an operation.
func paramValues(p suggest.Param) ([]any, error) {
	var out []any
	switch p.Type {
	case suggest.Categorical, suggest.Discrete:
		for _, v := range p.Values {
			out = append(out, v)
		}
	case suggest.Int:
		step := int(p.Step)
		if step <= 0 {
			step = 1
		}
		lo, hi := int(p.Min), int(p.Max)
		if hi-lo > MaxOperations*step {
			return nil, fmt.Errorf("more than %d values", MaxOperations)
		}
		for v := lo; v <= hi; v += step {
			out = append(out, v)
		}
	case suggest.Double:
		if !(p.Step > 0) {
			return nil, fmt.Errorf("a double parameter needs a step > 0")
		}
		// numpy.arange(min, max+step, step): ceil((max+step-min)/step)
		// values min + k·delta with delta = (min+step) − min; Katib means
		// to drop a last one above max (its del on an array would raise).
		n := math.Ceil((p.Max + p.Step - p.Min) / p.Step)
		if !(n <= MaxOperations) {
			return nil, fmt.Errorf("more than %d values", MaxOperations)
		}
		delta := (p.Min + p.Step) - p.Min
		for k := 0; k < int(n); k++ {
			out = append(out, p.Min+float64(k)*delta)
		}
		if len(out) > 0 && out[len(out)-1].(float64) > p.Max {
			out = out[:len(out)-1]
		}
	default:
		return nil, fmt.Errorf("unknown parameter type %q", p.Type)
	}
	return out, nil
}

// Arc is a sampled architecture: for each layer, its operation's ID
// followed by one 0 or 1 per earlier layer (1: that layer's output is a
// skip-connection input of this one). It is Katib's organized_arc.
type Arc [][]int

// String returns the architecture as Katib's service writes the
// architecture assignment: Python's json.dumps with double quotes replaced
// by single ones, such as "[[3], [1, 0], [0, 1, 1]]".
func (a Arc) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, layer := range a {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('[')
		for j, v := range layer {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Itoa(v))
		}
		b.WriteByte(']')
	}
	b.WriteByte(']')
	return b.String()
}

// ParseArc reads an architecture written by [Arc.String] (or with double
// quotes, or any JSON spacing) and checks it against a space of numLayers
// layers and numOps operations.
func ParseArc(s string, numLayers, numOps int) (Arc, error) {
	var a Arc
	if err := json.Unmarshal([]byte(strings.ReplaceAll(s, "'", `"`)), &a); err != nil {
		return nil, fmt.Errorf("architecture %q: %w", s, err)
	}
	if len(a) != numLayers {
		return nil, fmt.Errorf("architecture %q: %d layers, want %d", s, len(a), numLayers)
	}
	for l, layer := range a {
		if len(layer) != l+1 {
			return nil, fmt.Errorf("architecture %q: layer %d has %d entries, want %d", s, l, len(layer), l+1)
		}
		if layer[0] < 0 || layer[0] >= numOps {
			return nil, fmt.Errorf("architecture %q: layer %d: operation %d out of range [0, %d)", s, l, layer[0], numOps)
		}
		for _, v := range layer[1:] {
			if v != 0 && v != 1 {
				return nil, fmt.Errorf("architecture %q: layer %d: skip %d is not 0 or 1", s, l, v)
			}
		}
	}
	return a, nil
}

// NNConfig returns the nn_config assignment Katib's service writes for a:
// Python's json.dumps of {num_layers, input_sizes, output_sizes,
// embedding}, where embedding maps each operation ID a uses, in order of
// first use, to {opt_id, opt_type, opt_params}, with double quotes
// replaced by single ones. ops is [Expand]'s result.
func NNConfig(a Arc, nas *suggest.NASConfig, ops []Operation) string {
	var b strings.Builder
	b.WriteString(`{"num_layers": `)
	b.WriteString(strconv.Itoa(nas.NumLayers))
	b.WriteString(`, "input_sizes": `)
	pyInts(&b, nas.InputSizes)
	b.WriteString(`, "output_sizes": `)
	pyInts(&b, nas.OutputSizes)
	b.WriteString(`, "embedding": {`)
	seen := map[int]bool{}
	for _, layer := range a {
		id := layer[0]
		if seen[id] {
			continue
		}
		if len(seen) > 0 {
			b.WriteString(", ")
		}
		seen[id] = true
		op := ops[id]
		fmt.Fprintf(&b, `"%d": {"opt_id": %d, "opt_type": `, id, id)
		pyjson.WriteString(&b, op.Type)
		b.WriteString(`, "opt_params": {`)
		for i, p := range op.Params {
			if i > 0 {
				b.WriteString(", ")
			}
			pyjson.WriteString(&b, p.Name)
			b.WriteString(": ")
			pyValue(&b, p.Value)
		}
		b.WriteString("}}")
	}
	b.WriteString("}}")
	return strings.ReplaceAll(b.String(), `"`, "'")
}

func pyInts(b *strings.Builder, v []int) {
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(x))
	}
	b.WriteByte(']')
}

func pyValue(b *strings.Builder, v any) {
	switch v := v.(type) {
	case string:
		pyjson.WriteString(b, v)
	case int:
		b.WriteString(strconv.Itoa(v))
	case float64:
		b.WriteString(pyFloat(v))
	}
}

// pyFloat formats f as Python's json.dumps does (float.__repr__, with
// NaN and Infinity for the non-finite values).
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX, shortest digits
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}
