package pipeline

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/Knetic/govaluate"
	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/expr-lang/expr"
)

// tagPattern matches Argo's simple template tags, {{name}}, with optional
// blanks inside the braces. Expression tags, {{=...}}, are refused by Check.
var tagPattern = regexp.MustCompile(`\{\{\s*([^{}=\s][^{}]*?)\s*\}\}`)

// scope maps tag names (inputs.parameters.x, tasks.t.outputs.result) to
// their values.
type scope map[string]string

// with returns a copy of s with the entries of t added.
func (s scope) with(t scope) scope {
	out := make(scope, len(s)+len(t))
	for k, v := range s {
		out[k] = v
	}
	for k, v := range t {
		out[k] = v
	}
	return out
}

// replace substitutes the tags of text that sc names; other tags stay as
// written (they may be resolved later, as Argo leaves them).
func (sc scope) replace(text string) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	return tagPattern.ReplaceAllStringFunc(text, func(m string) string {
		name := tagPattern.FindStringSubmatch(m)[1]
		if v, ok := sc[name]; ok {
			return v
		}
		return m
	})
}

// unresolved returns the first tag left in text, or "".
func unresolved(text string) string {
	if m := tagPattern.FindString(text); m != "" {
		return m
	}
	return ""
}

// substituteJSON replaces tags in every string of v, a decoded JSON value,
// in place (maps and slices) or in its return value (strings).
func (sc scope) substituteJSON(v any) any {
	switch x := v.(type) {
	case string:
		return sc.replace(x)
	case map[string]any:
		for k, e := range x {
			x[k] = sc.substituteJSON(e)
		}
	case []any:
		for i, e := range x {
			x[i] = sc.substituteJSON(e)
		}
	}
	return v
}

// substitute returns a copy of v (a template, arguments) with the tags sc
// names replaced in all its strings, as Argo substitutes a template's JSON.
func substitute[T any](v *T, sc scope) (*T, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode for substitution: %w", err)
	}
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		return nil, fmt.Errorf("decode for substitution: %w", err)
	}
	data, err = json.Marshal(sc.substituteJSON(generic))
	if err != nil {
		return nil, fmt.Errorf("encode after substitution: %w", err)
	}
	out := new(T)
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("decode after substitution: %w", err)
	}
	return out, nil
}

// evalWhen evaluates a when expression after substitution, as Argo's
// controller does: with govaluate, bare words being strings, so that
// "{{steps.flip.outputs.result}} == heads" compares two strings.
func evalWhen(when string) (bool, error) {
	if when == "" {
		return true, nil
	}
	e, err := govaluate.NewEvaluableExpression(when)
	if err != nil {
		return false, fmt.Errorf("invalid when expression %q: %w", when, err)
	}
	tokens := e.Tokens()
	for i := range tokens {
		if tokens[i].Kind == govaluate.VARIABLE {
			tokens[i].Kind = govaluate.STRING
		}
	}
	e, err = govaluate.NewEvaluableExpressionFromTokens(tokens)
	if err != nil {
		return false, fmt.Errorf("invalid when expression %q: %w", when, err)
	}
	res, err := e.Evaluate(nil)
	if err != nil {
		return false, fmt.Errorf("evaluate when expression %q: %w", when, err)
	}
	b, ok := res.(bool)
	if !ok {
		return false, fmt.Errorf("when expression %q is not a boolean: %v", when, res)
	}
	return b, nil
}

// taskResults are what a depends expression can ask of a task, Argo's
// TaskResults.
type taskResults struct {
	Succeeded    bool
	Failed       bool
	Errored      bool
	Skipped      bool
	Omitted      bool
	Daemoned     bool
	AnySucceeded bool
	AllFailed    bool
}

// dependsRef matches a task name, optionally with a result: Argo's
// taskNameRegex.
var dependsRef = regexp.MustCompile(`([a-zA-Z0-9][-a-zA-Z0-9]*?\.[A-Z][a-zA-Z]+)|([a-zA-Z0-9][-a-zA-Z0-9]*)`)

// dependsLogic returns the depends expression of a task, with Argo's
// expansions: dependencies [A, B] mean "A && B", and a bare task name A
// means (A.Succeeded || A.Skipped || A.Daemoned), plus A.Errored and
// A.Failed when A's continueOn allows them. It also returns the names of
// the tasks the expression refers to, in order of first appearance.
func dependsLogic(depends string, dependencies []string, continueOn func(string) *wfv1.ContinueOn) (string, []string) {
	if depends == "" {
		depends = strings.Join(dependencies, " && ")
	}
	var deps []string
	seen := map[string]bool{}
	var b strings.Builder
	last := 0
	for _, m := range dependsRef.FindAllStringSubmatchIndex(depends, -1) {
		var name string
		if m[2] != -1 {
			name, _, _ = strings.Cut(depends[m[2]:m[3]], ".")
		} else {
			name = depends[m[4]:m[5]]
			b.WriteString(depends[last:m[4]])
			b.WriteString(expandDependency(name, continueOn(name)))
			last = m[5]
		}
		if !seen[name] {
			seen[name] = true
			deps = append(deps, name)
		}
	}
	b.WriteString(depends[last:])
	return b.String(), deps
}

func expandDependency(name string, c *wfv1.ContinueOn) string {
	rs := []string{name + ".Succeeded", name + ".Skipped", name + ".Daemoned"}
	if c != nil && c.Error {
		rs = append(rs, name+".Errored")
	}
	if c != nil && c.Failed {
		rs = append(rs, name+".Failed")
	}
	return "(" + strings.Join(rs, " || ") + ")"
}

// evalDepends evaluates an expanded depends expression with expr, as Argo
// does, task names having their dashes made underscores.
func evalDepends(logic string, results map[string]taskResults) (bool, error) {
	if strings.TrimSpace(logic) == "" {
		return true, nil
	}
	env := make(map[string]any, len(results))
	for name, r := range results {
		env[strings.ReplaceAll(name, "-", "_")] = r
	}
	input := strings.ReplaceAll(logic, "-", "_")
	prog, err := expr.Compile(input, expr.Env(env), expr.AsBool())
	if err != nil {
		return false, fmt.Errorf("depends expression %q: %w", logic, err)
	}
	out, err := expr.Run(prog, env)
	if err != nil {
		return false, fmt.Errorf("depends expression %q: %w", logic, err)
	}
	b, _ := out.(bool)
	return b, nil
}
