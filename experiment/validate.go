package experiment

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/tune-hpo/tune/earlystop"
	"github.com/tune-hpo/tune/internal/didyoumean"
	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/suggest"
	suggestalgorithms "github.com/tune-hpo/tune/suggest/algorithms"
	"github.com/tune-hpo/tune/suggest/darts"
	"github.com/tune-hpo/tune/trial/manifest"
	"github.com/tune-hpo/tune/trial/pipeline/kfp"
)

// APIVersion and Kind are the only apiVersion and kind an experiment file
// may declare.
const (
	APIVersion = "kubeflow.org/v1beta1"
	Kind       = "Experiment"
)

// MaxNameLength is the longest metadata.name Katib accepts, so that trial
// names (the name plus a suffix) fit Kubernetes' 63-character limit.
const MaxNameLength = 40

// MaxParameterNameLength is the longest parameter name accepted, in bytes:
// the longest Kubernetes object name. Parameter names appear in trial
// specs, command lines, tables and logs.
const MaxParameterNameLength = 253

var (
	nameRE        = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	placeholderRE = regexp.MustCompile(`\$\{trialParameters\.([^}]+)\}`)
	metaRefRE     = regexp.MustCompile(`^\$\{trialSpec\.(.+)\}$`)
	metaIndexRE   = regexp.MustCompile(`^(Labels|Annotations)\[(.+)\]$`)
)

// metaRef is a parsed trial metadata reference such as
// ${trialSpec.Labels[key]}.
type metaRef struct {
	key   string // Name, Namespace, Kind, APIVersion, Labels or Annotations
	index string // the label or annotation key
}

// parseMetaRef parses a trialParameters reference. isMeta reports whether
// ref has the ${trialSpec.…} form; ok whether it is one Katib knows.
func parseMetaRef(ref string) (m metaRef, isMeta, ok bool) {
	sub := metaRefRE.FindStringSubmatch(ref)
	if sub == nil {
		return metaRef{}, strings.HasPrefix(ref, "${trialSpec."), false
	}
	switch sub[1] {
	case "Name", "Namespace", "Kind", "APIVersion":
		return metaRef{key: sub[1]}, true, true
	}
	if ix := metaIndexRE.FindStringSubmatch(sub[1]); ix != nil {
		return metaRef{key: ix[1], index: ix[2]}, true, true
	}
	return metaRef{}, true, false
}

// validator collects problems.
type validator struct {
	errs []*FieldError
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Validate checks e against Katib's rules and tune's, after [Experiment.Default]
// (call Default first: Validate does not apply defaults, and rejects, for
// example, a missing collector kind). It returns nil or an [*InvalidError]
// listing every problem, with paths and without positions ([Parse] adds
// them).
//
// See the package documentation for the rules.
func (e *Experiment) Validate() error {
	v := &validator{}
	v.meta(e)
	s := &e.Spec
	v.counts(s)
	v.objective(s.Objective)
	v.algorithm(s)
	v.earlyStopping(s.EarlyStopping)
	switch s.ResumePolicy {
	case "", "Never", "LongRunning", "FromVolume":
	default:
		v.add("spec.resumePolicy", "%q is not one of Never, LongRunning, FromVolume", s.ResumePolicy)
	}
	switch {
	case len(s.Parameters) == 0 && s.NasConfig == nil:
		v.add("spec.parameters", "at least one parameter is required (or spec.nasConfig)")
	case len(s.Parameters) > 0 && s.NasConfig != nil:
		v.add("spec.nasConfig", "only one of spec.parameters and spec.nasConfig may be given")
	}
	v.parameters("spec.parameters", s.Parameters)
	v.nas(s)
	v.trialTemplate(e)
	v.collector(s.MetricsCollectorSpec)
	if len(v.errs) == 0 {
		return nil
	}
	return &InvalidError{Errs: v.errs}
}

func (v *validator) meta(e *Experiment) {
	if e.APIVersion != APIVersion {
		v.add("apiVersion", "must be %s, got %q", APIVersion, e.APIVersion)
	}
	if e.Kind != Kind {
		v.add("kind", "must be %s, got %q", Kind, e.Kind)
	}
	switch name := e.Metadata.Name; {
	case name == "":
		v.add("metadata.name", "is required")
	case len(name) > MaxNameLength || !nameRE.MatchString(name):
		v.add("metadata.name", "%q must be at most %d lowercase letters, digits and '-', start with a letter and end with a letter or digit", name, MaxNameLength)
	}
	if ns := e.Metadata.Namespace; ns != "" {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			v.add("metadata.namespace", "%q is not a valid namespace: %s", ns, strings.Join(msgs, "; "))
		}
	}
}

func (v *validator) counts(s *Spec) {
	if p := s.ParallelTrialCount; p != nil && *p < 1 {
		v.add("spec.parallelTrialCount", "must be at least 1, got %d", *p)
	}
	if m := s.MaxTrialCount; m != nil && *m < 1 {
		v.add("spec.maxTrialCount", "must be at least 1, got %d", *m)
	}
	if p, m := s.ParallelTrialCount, s.MaxTrialCount; p != nil && m != nil && *m >= 1 && *p > *m {
		// Katib's webhook, after its defaulting: a defaulted
		// parallelTrialCount of 3 counts as given.
		v.add("spec.parallelTrialCount", "%d must not exceed spec.maxTrialCount (%d)", *p, *m)
	}
	if f := s.MaxFailedTrialCount; f != nil {
		if *f < 0 {
			v.add("spec.maxFailedTrialCount", "must not be negative, got %d", *f)
		} else if m := s.MaxTrialCount; m != nil && *m >= 1 && *f > *m {
			v.add("spec.maxFailedTrialCount", "%d must not exceed spec.maxTrialCount (%d)", *f, *m)
		}
	}
}

func (v *validator) objective(o *ObjectiveSpec) {
	const p = "spec.objective"
	if o == nil {
		v.add(p, "is required")
		return
	}
	switch o.Type {
	case "minimize", "maximize":
	case "":
		v.add(p+".type", "is required: minimize or maximize")
	default:
		v.add(p+".type", "%q is not one of minimize, maximize", o.Type)
	}
	if o.Goal != nil && (math.IsNaN(*o.Goal) || math.IsInf(*o.Goal, 0)) {
		v.add(p+".goal", "must be a finite number")
	}
	if o.ObjectiveMetricName == "" {
		v.add(p+".objectiveMetricName", "is required")
	}
	known := map[string]bool{o.ObjectiveMetricName: true}
	for i, name := range o.AdditionalMetricNames {
		ip := index(p+".additionalMetricNames", i)
		switch {
		case name == "":
			v.add(ip, "must not be empty")
		case name == o.ObjectiveMetricName:
			v.add(ip, "%q is the objective metric; do not repeat it", name)
		case known[name]:
			v.add(ip, "duplicate metric %q", name)
		}
		known[name] = true
	}
	seen := map[string]bool{}
	for i, ms := range o.MetricStrategies {
		ip := index(p+".metricStrategies", i)
		switch {
		case ms.Name == "":
			v.add(ip+".name", "is required")
		case !known[ms.Name]:
			v.add(ip+".name", "%q is neither the objective metric nor an additional metric%s", ms.Name, didyoumean.Hint(ms.Name, metricNames(o)))
		case seen[ms.Name]:
			v.add(ip+".name", "duplicate strategy for metric %q", ms.Name)
		}
		seen[ms.Name] = true
		switch ms.Value {
		case "min", "max", "latest":
		default:
			v.add(ip+".value", "%q is not one of min, max, latest", ms.Value)
		}
	}
}

// metricNames returns the objective metric's name and the additional
// metrics' names, in that order.
func metricNames(o *ObjectiveSpec) []string {
	return append([]string{o.ObjectiveMetricName}, o.AdditionalMetricNames...)
}

// settings checks a list of name/value settings against rules; nil rules
// check only that names are present and unique.
func (v *validator) settings(p, algorithm string, names, values []string, rules map[string]suggest.ValueCheck) {
	seen := map[string]bool{}
	for i, name := range names {
		ip := index(p, i)
		switch {
		case name == "":
			v.add(ip+".name", "is required")
			continue
		case seen[name]:
			v.add(ip+".name", "duplicate setting %q", name)
			continue
		}
		seen[name] = true
		if rules == nil {
			continue // checked by the algorithm itself
		}
		check, ok := rules[name]
		if !ok {
			allowed := "none"
			if len(rules) > 0 {
				allowed = strings.Join(slices.Sorted(maps.Keys(rules)), ", ")
			}
			v.add(ip+".name", "unknown setting %q for algorithm %s (allowed: %s)%s", name, algorithm, allowed, didyoumean.Hint(name, slices.Sorted(maps.Keys(rules))))
			continue
		}
		if err := check(values[i]); err != nil {
			v.add(ip+".value", "%s: %v", name, err)
		}
	}
}

func (v *validator) algorithm(s *Spec) {
	const p = "spec.algorithm"
	a := s.Algorithm
	if a == nil {
		v.add(p, "is required")
		return
	}
	in := algorithmInput(s)
	names := make([]string, len(a.AlgorithmSettings))
	values := make([]string, len(a.AlgorithmSettings))
	for i, st := range a.AlgorithmSettings {
		names[i], values[i] = st.Name, st.Value
	}
	problems := suggestalgorithms.Check(a.AlgorithmName, in)
	if len(problems) > 0 && problems[0].Where == suggestalgorithms.InName {
		v.add(p+".algorithmName", "%s", problems[0].Msg)
		return
	}
	v.settings(p+".algorithmSettings", a.AlgorithmName, names, values, nil)
	for _, pr := range problems {
		v.add(problemPath(pr), "%s", pr.Msg)
	}
}

// algorithmInput returns what the algorithm registry reads of s, whose
// parameters need not be valid (see algorithmSpace).
func algorithmInput(s *Spec) suggestalgorithms.Experiment {
	in := suggestalgorithms.Experiment{
		Space:              algorithmSpace(s.Parameters),
		NasConfig:          s.NasConfig != nil,
		ParallelTrialCount: optionalInt(s.ParallelTrialCount),
		MaxTrialCount:      optionalInt(s.MaxTrialCount),
	}
	if a := s.Algorithm; a != nil {
		in.Settings = make([]suggestalgorithms.Setting, len(a.AlgorithmSettings))
		for i, st := range a.AlgorithmSettings {
			in.Settings[i] = suggestalgorithms.Setting{Name: st.Name, Value: st.Value}
		}
	}
	return in
}

// optionalInt converts an optional count.
func optionalInt(c *int32) *int {
	if c == nil {
		return nil
	}
	n := int(*c)
	return &n
}

// problemPath returns the field path of an algorithm registry's problem.
func problemPath(pr suggestalgorithms.Problem) string {
	const p = "spec.algorithm.algorithmSettings"
	switch pr.Where {
	case suggestalgorithms.InName:
		return "spec.algorithm.algorithmName"
	case suggestalgorithms.InSetting:
		return index(p, pr.Index)
	case suggestalgorithms.InSettingName:
		return index(p, pr.Index) + ".name"
	case suggestalgorithms.InSettingValue:
		return index(p, pr.Index) + ".value"
	case suggestalgorithms.InParameters:
		return "spec.parameters"
	case suggestalgorithms.InParameterStep:
		return index("spec.parameters", pr.Index) + ".feasibleSpace.step"
	case suggestalgorithms.InParallelTrialCount:
		return "spec.parallelTrialCount"
	case suggestalgorithms.InNasConfig:
		return "spec.nasConfig"
	}
	return p
}

// algorithmSpace returns spec.parameters as the algorithm registry's rules
// read them: names, types and steps, before the values are known to be
// valid. A step that is given but unreadable or zero is NaN, so that it
// counts as given (its own problem is reported at the parameter).
func algorithmSpace(params []ParameterSpec) suggest.Space {
	space := make(suggest.Space, len(params))
	for i, prm := range params {
		space[i] = suggest.Param{Name: prm.Name, Type: suggest.ParamType(prm.ParameterType)}
		if st := prm.FeasibleSpace.Step; st != "" {
			space[i].Step = math.NaN()
			if f, err := strconv.ParseFloat(strings.TrimSpace(st), 64); err == nil && f != 0 {
				space[i].Step = f
			}
		}
	}
	return space
}

func (v *validator) earlyStopping(es *EarlyStoppingSpec) {
	const p = "spec.earlyStopping"
	if es == nil {
		return
	}
	if es.AlgorithmName == "" {
		v.add(p+".algorithmName", "is required (one of %s)", strings.Join(earlystop.Names(), ", "))
		return
	}
	checks, ok := earlystop.Settings(es.AlgorithmName)
	if !ok {
		v.add(p+".algorithmName", "unknown early stopping algorithm %q (allowed: %s)%s", es.AlgorithmName, strings.Join(earlystop.Names(), ", "), didyoumean.Hint(es.AlgorithmName, earlystop.Names()))
		return
	}
	names := make([]string, len(es.AlgorithmSettings))
	values := make([]string, len(es.AlgorithmSettings))
	for i, st := range es.AlgorithmSettings {
		names[i], values[i] = st.Name, st.Value
	}
	v.settings(p+".algorithmSettings", es.AlgorithmName, names, values, checks)
}

// number parses a feasibleSpace bound; integer requires an integer.
func number(s string, integer bool) (float64, error) {
	s = strings.TrimSpace(s)
	if integer {
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", s)
		}
		return float64(i), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return f, nil
}

func (v *validator) parameters(p string, params []ParameterSpec) {
	seen := map[string]bool{}
	for i, prm := range params {
		ip := index(p, i)
		switch {
		case prm.Name == "":
			v.add(ip+".name", "is required")
		case len(prm.Name) > MaxParameterNameLength:
			v.add(ip+".name", "is %d bytes long, the limit is %d", len(prm.Name), MaxParameterNameLength)
		case !utf8.ValidString(prm.Name) || strings.ContainsFunc(prm.Name, unicode.IsControl):
			v.add(ip+".name", "%q must be printable UTF-8 text, without control characters", prm.Name)
		case seen[prm.Name]:
			v.add(ip+".name", "duplicate parameter name %q", prm.Name)
		}
		seen[prm.Name] = true
		fp := ip + ".feasibleSpace"
		fs := prm.FeasibleSpace
		switch fs.Distribution {
		case "", "uniform", "logUniform", "normal", "logNormal":
		default:
			v.add(fp+".distribution", "%q is not one of uniform, logUniform, normal, logNormal", fs.Distribution)
		}
		switch prm.ParameterType {
		case "double", "int":
			v.numeric(fp, prm)
		case "discrete", "categorical":
			if fs.Min != "" || fs.Max != "" || fs.Step != "" {
				v.add(fp, "min, max and step are not allowed for a %s parameter; use list", prm.ParameterType)
			}
			if fs.Distribution != "" && fs.Distribution != "uniform" {
				v.add(fp+".distribution", "%q applies only to double and int parameters", fs.Distribution)
			}
			if len(fs.List) == 0 {
				v.add(fp+".list", "must list at least one value")
			}
			values := map[string]bool{}
			for j, item := range fs.List {
				jp := index(fp+".list", j)
				if strings.IndexByte(item, 0) >= 0 {
					// A value reaches the trial as an argument or an
					// environment variable, C strings that end at a NUL.
					v.add(jp, "%q holds a NUL byte (\\x00), which no command-line argument or environment variable can carry", item)
					continue
				}
				if prm.ParameterType == "discrete" {
					if _, err := number(item, false); err != nil {
						v.add(jp, "%v", err)
						continue
					}
				}
				if values[item] {
					v.add(jp, "duplicate value %q", item)
				}
				values[item] = true
			}
		case "":
			v.add(ip+".parameterType", "is required: double, int, discrete or categorical")
		default:
			v.add(ip+".parameterType", "%q is not one of double, int, discrete, categorical", prm.ParameterType)
		}
	}
}

// numeric checks a double or int parameter's feasible space.
func (v *validator) numeric(fp string, prm ParameterSpec) {
	fs := prm.FeasibleSpace
	integer := prm.ParameterType == "int"
	if len(fs.List) > 0 {
		v.add(fp+".list", "is not allowed for a %s parameter; use min and max", prm.ParameterType)
	}
	bound := func(name, s string) (float64, bool) {
		if s == "" {
			v.add(fp+"."+name, "is required for a %s parameter", prm.ParameterType)
			return 0, false
		}
		f, err := number(s, integer)
		if err != nil {
			v.add(fp+"."+name, "%v", err)
			return 0, false
		}
		return f, true
	}
	lo, okLo := bound("min", fs.Min)
	hi, okHi := bound("max", fs.Max)
	if okLo && okHi && lo > hi {
		v.add(fp+".min", "min %s is greater than max %s", fs.Min, fs.Max)
		okLo = false
	}
	if okLo && (fs.Distribution == "logUniform" || fs.Distribution == "logNormal") && lo <= 0 {
		v.add(fp+".min", "%s needs min > 0, got %s", fs.Distribution, fs.Min)
	}
	if fs.Step == "" {
		return // the algorithm's rules say whether it needs one
	}
	step, err := number(fs.Step, integer)
	switch {
	case err != nil:
		v.add(fp+".step", "%v", err)
	case step <= 0:
		v.add(fp+".step", "must be positive, got %s", fs.Step)
	case okLo && okHi && hi > lo && step > hi-lo:
		v.add(fp+".step", "%s does not fit: it is larger than max - min (%s)", fs.Step, strconv.FormatFloat(hi-lo, 'g', 12, 64))
	}
}

// nas checks spec.nasConfig as Katib does: the webhook (only one of
// parameters and nasConfig), the NAS services' shared check of operations
// (pkg/suggestion/v1beta1/nas/common/validation.py: an operationType and
// parameters for each operation, each parameter typed and with its list, or
// bounds and a positive step for a double) and ENAS's check of graphConfig
// (inputSizes, outputSizes and numLayers). tune also requires numLayers for
// darts, rejects non-positive sizes and a nasConfig for an algorithm that
// does not search one, lets a darts skip_connection go without parameters
// (Katib's darts renders it without any, but its validation asks for them,
// which rejects Katib's darts-gpu.yaml), and requires the first parameter
// of every other darts operation to list values (the filter sizes darts
// renders; Katib silently drops such an operation).
func (v *validator) nas(s *Spec) {
	const p = "spec.nasConfig"
	n := s.NasConfig
	if n == nil {
		return
	}
	alg := ""
	if s.Algorithm != nil {
		alg = s.Algorithm.AlgorithmName
	}
	a, known := suggestalgorithms.Lookup(alg)
	if known && !a.NAS {
		v.add(p, "algorithm %s does not search a nasConfig (the NAS algorithms are %s); use spec.parameters", alg, strings.Join(nasAlgorithms(), ", "))
	}
	g := n.GraphConfig
	gp := p + ".graphConfig"
	if g.NumLayers == nil || *g.NumLayers < 1 {
		if g.NumLayers == nil {
			v.add(gp+".numLayers", "is required")
		} else {
			v.add(gp+".numLayers", "must be at least 1, got %d", *g.NumLayers)
		}
	}
	for _, f := range []struct {
		name  string
		sizes []int32
	}{{"inputSizes", g.InputSizes}, {"outputSizes", g.OutputSizes}} {
		name, sizes := f.name, f.sizes
		if len(sizes) == 0 && alg == "enas" {
			v.add(gp+"."+name, "is required for algorithm enas")
		}
		for i, size := range sizes {
			if size < 1 {
				v.add(index(gp+"."+name, i), "must be positive, got %d", size)
			}
		}
	}
	if len(n.Operations) == 0 {
		v.add(p+".operations", "must list at least one operation")
	}
	for i, op := range n.Operations {
		ip := index(p+".operations", i)
		if op.OperationType == "" {
			v.add(ip+".operationType", "is required")
		}
		if len(op.Parameters) == 0 {
			if !(alg == "darts" && op.OperationType == darts.SkipConnection) {
				v.add(ip+".parameters", "must list at least one parameter")
			}
			continue
		}
		v.parameters(ip+".parameters", op.Parameters)
		for j, prm := range op.Parameters {
			if prm.ParameterType == "double" && prm.FeasibleSpace.Step == "" {
				v.add(index(ip+".parameters", j)+".feasibleSpace.step", "is required for a double parameter of an operation")
			}
		}
		if alg == "darts" && op.OperationType != darts.SkipConnection {
			if t := op.Parameters[0].ParameterType; t != "categorical" && t != "discrete" {
				v.add(index(ip+".parameters", 0)+".parameterType", "darts reads the first parameter's list (the filter sizes) and %q has none: make it categorical", op.Parameters[0].Name)
			}
		}
	}
}

// outputNames lists the values e's algorithm adds to each assignment.
func outputNames(e *Experiment) []string {
	var out []string
	for _, o := range e.Outputs() {
		out = append(out, o.Name)
	}
	return out
}

// nasAlgorithms lists the algorithms that search a nasConfig.
func nasAlgorithms() []string {
	var out []string
	for _, name := range suggestalgorithms.Names() {
		if a, _ := suggestalgorithms.Lookup(name); a.NAS {
			out = append(out, name)
		}
	}
	return out
}

func (v *validator) trialTemplate(e *Experiment) {
	const p = "spec.trialTemplate"
	t := e.Spec.TrialTemplate
	if t == nil {
		v.add(p, "is required")
		return
	}
	switch {
	case t.TrialSpec == nil && t.ConfigMap == nil:
		v.add(p, "one of trialSpec and configMap is required")
	case t.TrialSpec != nil && t.ConfigMap != nil:
		v.add(p, "only one of trialSpec and configMap may be given")
	}
	if cm := t.ConfigMap; cm != nil {
		for name, val := range map[string]string{"configMapName": cm.ConfigMapName, "configMapNamespace": cm.ConfigMapNamespace, "templatePath": cm.TemplatePath} {
			if val == "" {
				v.add(p+".configMap."+name, "is required")
			}
		}
	}
	if t.PrimaryContainerName == "" {
		v.add(p+".primaryContainerName", "is required")
	}
	if t.SuccessCondition == "" || t.FailureCondition == "" {
		kind, _ := t.TrialSpec["kind"].(string)
		v.add(p, "successCondition and failureCondition are required for trial kind %q (Katib sets them only for Job and Kubeflow training jobs)", kind)
	}

	params := map[string]bool{}
	for _, prm := range e.Spec.Parameters {
		params[prm.Name] = true
	}
	outputs := map[string]bool{} // values the algorithm adds to each assignment
	for _, o := range e.Outputs() {
		outputs[o.Name] = true
	}
	declared := map[string]bool{}
	refs := map[string]bool{}
	referenced := map[string]bool{}
	for i, tp := range t.TrialParameters {
		ip := index(p+".trialParameters", i)
		switch {
		case tp.Name == "":
			v.add(ip+".name", "is required")
		case strings.ContainsAny(tp.Name, "{}"):
			v.add(ip+".name", "%q must not contain '{' or '}'", tp.Name)
		case declared[tp.Name]:
			v.add(ip+".name", "duplicate trial parameter %q", tp.Name)
		}
		declared[tp.Name] = true
		if tp.Reference == "" {
			v.add(ip+".reference", "is required: a parameter name or a trial metadata reference such as ${trialSpec.Name}")
			continue
		}
		if refs[tp.Reference] {
			v.add(ip+".reference", "duplicate reference %q", tp.Reference)
		}
		refs[tp.Reference] = true
		m, isMeta, ok := parseMetaRef(tp.Reference)
		switch {
		case isMeta && !ok:
			v.add(ip+".reference", "%q is not a trial metadata reference; allowed: ${trialSpec.Name}, ${trialSpec.Namespace}, ${trialSpec.Kind}, ${trialSpec.APIVersion}, ${trialSpec.Labels[KEY]}, ${trialSpec.Annotations[KEY]}", tp.Reference)
		case isMeta && m.index != "" && t.TrialSpec != nil:
			if _, ok := metaMap(t.TrialSpec, m.key)[m.index]; !ok {
				v.add(ip+".reference", "%s: trialSpec.metadata.%s has no key %q", tp.Reference, strings.ToLower(m.key), m.index)
			}
		case !isMeta && outputs[tp.Reference]:
		case !isMeta && len(params) == 0 && len(outputs) > 0:
			// A NAS experiment: its assignments hold only the algorithm's values.
			v.add(ip+".reference", "%q is not a value algorithm %s assigns (%s)%s", tp.Reference, e.Spec.Algorithm.AlgorithmName, strings.Join(outputNames(e), ", "), didyoumean.Hint(tp.Reference, outputNames(e)))
		case !isMeta && len(params) > 0 && !params[tp.Reference]:
			v.add(ip+".reference", "%q is not a parameter in spec.parameters", tp.Reference)
		case !isMeta:
			referenced[tp.Reference] = true
		}
	}
	if t.TrialSpec == nil {
		return
	}
	for i, prm := range e.Spec.Parameters {
		if prm.Name != "" && !referenced[prm.Name] {
			v.add(index("spec.parameters", i)+".name", "parameter %q is not referenced by any spec.trialTemplate.trialParameters; Katib requires every parameter to be passed to the trial", prm.Name)
		}
	}
	v.trialSpec(p+".trialSpec", t, declared)
}

// metaMap returns the trial spec's metadata.labels or metadata.annotations.
func metaMap(spec map[string]any, key string) map[string]any {
	md, _ := spec["metadata"].(map[string]any)
	m, _ := md[strings.ToLower(key)].(map[string]any)
	return m
}

func (v *validator) trialSpec(p string, t *TrialTemplate, declared map[string]bool) {
	spec := t.TrialSpec
	for _, f := range []string{"apiVersion", "kind"} {
		if s, ok := spec[f].(string); !ok || s == "" {
			v.add(p+"."+f, "is required")
		}
	}
	if md, ok := spec["metadata"].(map[string]any); ok {
		for _, f := range []string{"name", "namespace"} {
			if _, ok := md[f]; ok {
				v.add(p+".metadata."+f, "must be omitted: tune sets it for each trial")
			}
		}
	}
	used := map[string]bool{}
	walkStrings(spec, p, func(path, s string) {
		for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
			used[m[1]] = true
			if !declared[m[1]] {
				v.add(path, "%s is not declared in spec.trialTemplate.trialParameters", m[0])
			}
		}
	})
	for i, tp := range t.TrialParameters {
		if tp.Name != "" && !used[tp.Name] {
			v.add(index("spec.trialTemplate.trialParameters", i)+".name", "trial parameter %q is not used: ${trialParameters.%s} appears nowhere in trialSpec", tp.Name, tp.Name)
		}
	}
	if kfp.IsKind(spec) {
		v.pipelineJob(p, spec)
		return
	}
	if !manifest.IsKind(spec, manifest.JobGVK) {
		return
	}
	raw, err := json.Marshal(spec)
	if err == nil {
		var job batchv1.Job
		if err = manifest.Decode(raw, &job); err == nil {
			v.primaryContainer(p, t.PrimaryContainerName, &job)
			return
		}
	}
	v.add(p, "not a valid batch/v1 Job: %s", strings.ReplaceAll(strings.TrimPrefix(err.Error(), "json: "), "\n", "; "))
}

// pipelineJob reports what keeps a Kubeflow Pipelines v2 trialSpec from
// compiling, each problem at its field when kfp names one.
func (v *validator) pipelineJob(p string, spec map[string]any) {
	if _, err := kfp.Decode(spec); err != nil {
		msg := strings.TrimPrefix(err.Error(), "kfp: ")
		v.add(p, "%s", strings.ReplaceAll(strings.TrimPrefix(msg, "json: "), "\n", "; "))
		return
	}
	err := kfp.Check(spec)
	if err == nil {
		return
	}
	for _, line := range strings.Split(strings.TrimPrefix(err.Error(), "kfp: "), "\n") {
		path, msg, ok := strings.Cut(line, ": ")
		if ok && strings.HasPrefix(path, "spec.") && !strings.ContainsAny(path, " \"") {
			v.add(p+"."+path, "%s", msg)
			continue
		}
		v.add(p, "%s", line)
	}
}

func (v *validator) primaryContainer(p, name string, job *batchv1.Job) {
	if name == "" {
		return
	}
	cs := job.Spec.Template.Spec.Containers
	if manifest.PrimaryContainer(cs, name) != nil {
		return
	}
	if len(cs) == 0 {
		v.add(p+".spec.template.spec.containers", "a Job needs at least one container")
		return
	}
	names := manifest.ContainerNames(cs)
	for i, n := range names {
		names[i] = strconv.Quote(n)
	}
	v.add("spec.trialTemplate.primaryContainerName", "%q is not a container of the Job (containers: %s)", name, strings.Join(names, ", "))
}

// walkStrings calls fn for every string value in v, in key order.
func walkStrings(v any, path string, fn func(path, s string)) {
	switch x := v.(type) {
	case string:
		fn(path, x)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			walkStrings(x[k], child(path, k), fn)
		}
	case []any:
		for i, item := range x {
			walkStrings(item, index(path, i), fn)
		}
	}
}

func (v *validator) collector(mc *MetricsCollectorSpec) {
	const p = "spec.metricsCollectorSpec"
	const sp = p + ".source"
	if mc == nil || mc.Collector == nil {
		v.add(p+".collector.kind", "is required (one of %s)", joinKinds(collect.Kinds(), ", "))
		return
	}
	kind := collect.Kind(mc.Collector.Kind)
	var fs *FileSystemPath
	if mc.Source != nil {
		fs = mc.Source.FileSystemPath
	}
	if fs != nil {
		switch fs.Kind {
		case "", "File", "Directory":
		default:
			v.add(sp+".fileSystemPath.kind", "%q is not one of File, Directory", fs.Kind)
		}
		switch fs.Format {
		case "", "TEXT", "JSON":
		default:
			v.add(sp+".fileSystemPath.format", "%q is not one of TEXT, JSON", fs.Format)
		}
	}
	switch kind {
	case collect.StdOut, collect.Push:
	case collect.File:
		switch {
		case fs == nil || fs.Path == "":
			v.add(sp+".fileSystemPath.path", "is required for the File collector")
		case fs.Kind != "File":
			v.add(sp+".fileSystemPath.kind", "must be File for the File collector, got %q", fs.Kind)
		case !filepath.IsAbs(fs.Path):
			v.add(sp+".fileSystemPath.path", "%q must be an absolute path", fs.Path)
		}
		if fs != nil && fs.Format == "JSON" && mc.Source.Filter != nil {
			v.add(sp+".filter", "must be omitted when the metrics file format is JSON")
		}
		if fs != nil && fs.Format == "" {
			v.add(sp+".fileSystemPath.format", "is required for the File collector: TEXT or JSON")
		}
	case collect.TensorFlowEvent:
		switch {
		case fs == nil || fs.Path == "":
			v.add(sp+".fileSystemPath.path", "is required for the TensorFlowEvent collector")
		case fs.Kind != "Directory":
			v.add(sp+".fileSystemPath.kind", "must be Directory for the TensorFlowEvent collector, got %q", fs.Kind)
		case !filepath.IsAbs(fs.Path):
			v.add(sp+".fileSystemPath.path", "%q must be an absolute path", fs.Path)
		}
		if fs != nil && fs.Format != "" {
			v.add(sp+".fileSystemPath.format", "must be omitted for the TensorFlowEvent collector")
		}
	case collect.PrometheusMetric:
		if mc.Source == nil || mc.Source.HTTPGet == nil {
			v.add(sp+".httpGet", "is required for the PrometheusMetric collector")
			break
		}
		hg := mc.Source.HTTPGet
		if port, err := strconv.Atoi(hg.Port.String()); err != nil || port <= 0 || port > 65535 {
			v.add(sp+".httpGet.port", "%q must be a port number", hg.Port.String())
		}
		if !strings.HasPrefix(hg.Path, "/") {
			v.add(sp+".httpGet.path", "%q must start with /", hg.Path)
		}
	case collect.Custom:
		if mc.Collector.CustomCollector == nil {
			v.add(p+".collector.customCollector", "is required for the Custom collector")
		}
		if fs != nil && (!filepath.IsAbs(fs.Path) || (fs.Kind != "File" && fs.Kind != "Directory")) {
			v.add(sp+".fileSystemPath", "needs an absolute path and kind File or Directory")
		}
	case "":
		v.add(p+".collector.kind", "is required (one of %s)", joinKinds(collect.Kinds(), ", "))
	default:
		kinds := make([]string, 0, len(collect.Kinds()))
		for _, k := range collect.Kinds() {
			kinds = append(kinds, string(k))
		}
		v.add(p+".collector.kind", "unknown collector kind %q (allowed: %s)%s", kind, joinKinds(collect.Kinds(), ", "), didyoumean.Hint(string(kind), kinds))
	}
	if mc.Source != nil && mc.Source.Filter != nil {
		for i, f := range mc.Source.Filter.MetricsFormat {
			ip := index(sp+".filter.metricsFormat", i)
			re, err := regexp.Compile(f)
			switch {
			case err != nil:
				v.add(ip, "invalid regular expression: %v", err)
			case re.NumSubexp() < 2:
				v.add(ip, "%q needs two capture groups, the metric name and its value", f)
			}
		}
	}
}
