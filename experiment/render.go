package experiment

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// Namespace returns metadata.namespace, or [trial.DefaultNamespace] when
// empty.
func (e *Experiment) Namespace() string {
	if e.Metadata.Namespace != "" {
		return e.Metadata.Namespace
	}
	return trial.DefaultNamespace
}

// Render returns the trial workload for one trial: a deep copy of
// spec.trialTemplate.trialSpec with metadata.name set to trialName,
// metadata.namespace set to [Experiment.Namespace], and every
// ${trialParameters.NAME} inside a string value replaced by that trial
// parameter's value. A trial parameter referring to a parameter takes a's
// value for it; a metadata reference takes the trial's name, its namespace,
// the trial spec's kind or apiVersion, or one of its labels or annotations.
//
// Substitution works on the decoded values, in one pass per string, and
// never on map keys: a substituted value cannot change the object's
// structure or be substituted again, whatever characters it holds.
//
// With the StdOut, File and TensorFlowEvent collectors, Katib runs the
// trial's container as sh -c with its command and args joined, so that a
// template argument such as --x="${trialParameters.y}" (Katib's NAS
// examples) reaches the program as --x=VALUE. Render removes such double
// quotes, written around exactly one placeholder in a container's command
// or args, before substituting; the value is then passed verbatim, never
// through a shell. A container whose command is already sh -c or bash -c
// is left alone: its shell removes them.
//
// Render fails when the template is a ConfigMap, when a referenced parameter
// has no value in a, or when a placeholder names an undeclared trial
// parameter. The result is the caller's.
func (e *Experiment) Render(trialName string, a suggest.Assignment) (map[string]any, error) {
	t := e.Spec.TrialTemplate
	if t == nil || t.TrialSpec == nil {
		return nil, errors.New("render trial: no inline trialSpec in spec.trialTemplate")
	}
	values := make(map[string]string, len(t.TrialParameters))
	for _, tp := range t.TrialParameters {
		m, isMeta, ok := parseMetaRef(tp.Reference)
		switch {
		case isMeta && !ok:
			return nil, fmt.Errorf("render trial %s: trial parameter %s: unknown metadata reference %q", trialName, tp.Name, tp.Reference)
		case isMeta:
			val, err := e.metaValue(trialName, m)
			if err != nil {
				return nil, fmt.Errorf("render trial %s: trial parameter %s: %w", trialName, tp.Name, err)
			}
			values[tp.Name] = val
		default:
			val, ok := a[tp.Reference]
			if !ok {
				return nil, fmt.Errorf("render trial %s: trial parameter %s: no value for parameter %q", trialName, tp.Name, tp.Reference)
			}
			values[tp.Name] = val
		}
	}
	spec := t.TrialSpec
	switch e.CollectorKind() {
	case "", collect.StdOut, collect.File, collect.TensorFlowEvent:
		spec, _ = katibShellQuotes(spec).(map[string]any)
	}
	var missing []string
	out, _ := substitute(spec, func(s string) string {
		return placeholderRE.ReplaceAllStringFunc(s, func(ph string) string {
			name := placeholderRE.FindStringSubmatch(ph)[1]
			val, ok := values[name]
			if !ok {
				missing = append(missing, ph)
				return ph
			}
			return val
		})
	}).(map[string]any)
	if len(missing) > 0 {
		return nil, fmt.Errorf("render trial %s: %s not declared in spec.trialTemplate.trialParameters", trialName, strings.Join(missing, ", "))
	}
	md, ok := out["metadata"].(map[string]any)
	if !ok {
		md = map[string]any{}
		out["metadata"] = md
	}
	md["name"] = trialName
	md["namespace"] = e.Namespace()
	return out, nil
}

// quotedPlaceholderRE matches a placeholder in double quotes.
var quotedPlaceholderRE = regexp.MustCompile(`"(\$\{trialParameters\.[^}"]+\})"`)

// katibShellQuotes deep-copies v, removing from every string of each
// container's command and args the double quotes around a whole
// placeholder; see [Experiment.Render].
func katibShellQuotes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[k] = katibShellQuotes(item)
		}
		cmd, _ := x["command"].([]any)
		if len(cmd) == 0 {
			cmd, _ = x["args"].([]any)
		}
		if len(cmd) >= 2 && (cmd[0] == "sh" || cmd[0] == "bash") && cmd[1] == "-c" {
			return out
		}
		for _, key := range []string{"command", "args"} {
			list, ok := x[key].([]any)
			if !ok {
				continue
			}
			unq := make([]any, len(list))
			for i, item := range list {
				if s, ok := item.(string); ok {
					item = quotedPlaceholderRE.ReplaceAllString(s, "$1")
				}
				unq[i] = item
			}
			out[key] = unq
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = katibShellQuotes(item)
		}
		return out
	}
	return v
}

// metaValue returns the value of a trial metadata reference.
func (e *Experiment) metaValue(trialName string, m metaRef) (string, error) {
	spec := e.Spec.TrialTemplate.TrialSpec
	switch m.key {
	case "Name":
		return trialName, nil
	case "Namespace":
		return e.Namespace(), nil
	case "Kind", "APIVersion":
		key := "kind"
		if m.key == "APIVersion" {
			key = "apiVersion"
		}
		s, _ := spec[key].(string)
		return s, nil
	}
	val, ok := metaMap(spec, m.key)[m.index]
	if !ok {
		return "", fmt.Errorf("trialSpec.metadata.%s has no key %q", strings.ToLower(m.key), m.index)
	}
	return fmt.Sprint(val), nil
}

// substitute deep-copies v, passing every string value through fn.
func substitute(v any, fn func(string) string) any {
	switch x := v.(type) {
	case string:
		return fn(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[k] = substitute(item, fn)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = substitute(item, fn)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[k] = fn(item)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = fn(item)
		}
		return out
	}
	return v
}
