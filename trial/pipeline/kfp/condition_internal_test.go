package kfp

import (
	"fmt"
	"strings"
	"testing"
)

func TestWhenExpr(t *testing.T) {
	ops := map[string]operand{
		"s": {"{{tasks.flip.outputs.parameters.Output}}", TypeString},
		"n": {"{{inputs.parameters.n}}", TypeInteger},
		"b": {"{{inputs.parameters.b}}", TypeBoolean},
		"l": {"{{inputs.parameters.l}}", TypeList},
	}
	lookup := func(name string) (operand, error) {
		op, ok := ops[name]
		if !ok {
			return operand{}, fmt.Errorf("no input %q", name)
		}
		return op, nil
	}
	for _, tc := range []struct{ in, want, err string }{
		{`inputs.parameter_values['s'] == 'heads'`, `'{{tasks.flip.outputs.parameters.Output}}' == 'heads'`, ""},
		{`inputs.parameter_values["s"] != "tails"`, `'{{tasks.flip.outputs.parameters.Output}}' != 'tails'`, ""},
		{`int(inputs.parameter_values['n']) < 5000`, `{{inputs.parameters.n}} < 5000`, ""},
		{`!(int(inputs.parameter_values['n']) < 5000) && !(int(inputs.parameter_values['n']) > 5000)`,
			`!({{inputs.parameters.n}} < 5000) && !({{inputs.parameters.n}} > 5000)`, ""},
		{`inputs.parameter_values['b'] == true || double(inputs.parameter_values['n']) >= -1.5e3`,
			`{{inputs.parameters.b}} == true || {{inputs.parameters.n}} >= -1.5e3`, ""},
		{`inputs.parameter_values['b']`, `{{inputs.parameters.b}}`, ""},
		{`inputs.parameter_values['n'] == 3`, `{{inputs.parameters.n}} == 3`, ""},
		{`inputs.parameter_values['x'] == 'a'`, "", `no input "x"`},
		{`size(inputs.parameter_values['s']) > 1`, "", `"size" is not supported`},
		{`inputs.parameter_values['l'] == '[]'`, "", "LIST inputs cannot be compared"},
		{`inputs.parameter_values['s'] == 'it''s'`, "", "unexpected"},
		{`inputs.parameter_values['s'] == 'a' &&`, "", "unexpected end"},
		{`(inputs.parameter_values['b']`, "", `expected ")"`},
		{`inputs.parameter_values['s']`, "", "must be a comparison"},
		{`inputs.parameter_values['s'] == '{{x}}'`, "", "braces"},
	} {
		got, err := whenExpr(tc.in, lookup)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("whenExpr(%q) = %q, %v; want error with %q", tc.in, got, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("whenExpr(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
