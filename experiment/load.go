package experiment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	batchv1 "k8s.io/api/batch/v1"

	"github.com/tune-hpo/tune/trial/manifest"
	"github.com/tune-hpo/tune/trial/pipeline/kfp"
)

// MaxFileSize is the largest experiment file [Load] accepts: 4 MiB. A real
// Katib experiment is a few kilobytes, and Kubernetes itself stores no object
// larger than about 1.5 MiB in etcd; the limit keeps a mistaken or hostile
// path (a log, a disk image, /dev/zero) from being read into memory whole.
const MaxFileSize = 4 << 20

// Load reads the experiment file at path and parses it with [Parse]. It also
// returns the file's bytes, so that callers can store the source as written.
// Problems with the content match [ErrInvalid], and so does a file larger
// than [MaxFileSize], which is refused before it is read (a file that grows
// or whose size is unknown is read no further than the limit). A file that
// cannot be read returns the underlying I/O error.
func Load(path string) (*Experiment, []byte, error) {
	return LoadWith(path, nil)
}

// readLimited reads the file at path, refusing one larger than
// [MaxFileSize] with an error matching [ErrInvalid].
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load experiment: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load experiment: %w", err)
	}
	if fi.Mode().IsRegular() && fi.Size() > MaxFileSize {
		return nil, tooLarge(path, fmt.Sprintf("%d bytes", fi.Size()))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load experiment: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge(path, fmt.Sprintf("more than %d bytes", MaxFileSize))
	}
	return data, nil
}

// tooLarge returns the error for an experiment file of the given size
// above [MaxFileSize].
func tooLarge(path, size string) error {
	return &InvalidError{File: path, Errs: []*FieldError{{
		File: path,
		Msg:  fmt.Sprintf("file is too large: %s, the limit is %d bytes (4 MiB)", size, MaxFileSize),
	}}}
}

// Parse decodes one Katib Experiment from YAML (or JSON), applies
// [Experiment.Default] and checks it with [Experiment.Validate]. filename is
// used only in messages and may be empty.
//
// Decoding is strict: unknown fields, wrong types and duplicate keys are
// errors. Bare YAML numbers and booleans are accepted in string fields, so
// min: 0.01 reads as "0.01". The data must hold a single YAML document; a
// leading "---" is fine.
//
// Every problem found is returned at once as an [*InvalidError] whose
// [FieldError]s carry line and column numbers; the error matches
// [ErrInvalid].
func Parse(data []byte, filename string) (*Experiment, error) {
	return parse(data, filename, nil)
}

func parse(data []byte, filename string, findConfigMap ConfigMapLookup) (*Experiment, error) {
	invalid := func(errs ...*FieldError) error {
		sortErrs(errs)
		return &InvalidError{File: filename, Errs: errs}
	}
	root, ferr := parseDocument(data, filename)
	if ferr != nil {
		return nil, invalid(ferr)
	}

	d := newDecoder(filename, root)
	tree, ok := d.build(root, reflect.TypeFor[Experiment](), "", true)
	if d.capped {
		// An alias bomb or runaway nesting: the other problems are
		// beside the point, and the partial tree may be large.
		return nil, invalid(d.errs...)
	}
	e := &Experiment{}
	if ok {
		raw, err := json.Marshal(tree)
		if err == nil {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			err = dec.Decode(e)
		}
		if err != nil {
			d.fail(nil, "", "%s", strings.TrimPrefix(err.Error(), "json: "))
		}
		keepGeneric(e, tree)
	}
	if e.Spec.TrialTemplate != nil && manifest.IsKind(e.Spec.TrialTemplate.TrialSpec, manifest.JobGVK) {
		// Check the Job as Kubernetes will, with positions.
		const p = "spec.trialTemplate.trialSpec"
		if n := lookup(root, p); n != nil {
			d.build(n, reflect.TypeFor[batchv1.Job](), p, false)
		}
	}
	if e.Spec.TrialTemplate != nil && kfp.IsKind(e.Spec.TrialTemplate.TrialSpec) {
		// Check the pipeline's fields against the proto, with positions.
		const p = "spec.trialTemplate.trialSpec"
		if n := lookup(root, p); n != nil {
			d.build(n, reflect.TypeFor[kfp.Job](), p, false)
		}
	}
	decodeErrs := d.errs

	// Katib defaults the experiment as written (no Job defaults for a
	// ConfigMap's template), then reads the template.
	e.Default()
	var tmpl *template
	if src := templateRef(e); src != nil && findConfigMap != nil {
		cm, where, err := findConfigMap(*src)
		switch {
		case errors.Is(err, ErrTemplateUnavailable):
			return nil, fmt.Errorf("spec.trialTemplate.configMap: %w", err)
		case err != nil:
			fe := &FieldError{File: filename, Path: "spec.trialTemplate.configMap", Msg: err.Error()}
			decodeErrs = append(decodeErrs, fe)
		default:
			t, ferrs := readTemplate(cm, src, where, filename)
			decodeErrs = append(decodeErrs, ferrs...)
			if t != nil {
				tt := *e.Spec.TrialTemplate
				tt.TrialSpec, tt.ConfigMap = t.spec, nil
				e.Spec.TrialTemplate = &tt
				tmpl = t
			}
		}
		for _, fe := range decodeErrs {
			if fe.File == filename && fe.Line == 0 {
				fe.Line, fe.Column = locate(root, fe.Path)
			}
		}
	}
	errs := decodeErrs
	if verr := e.Validate(); verr != nil {
		var ie *InvalidError
		if !errors.As(verr, &ie) {
			return nil, fmt.Errorf("validate: %w", verr)
		}
	next:
		for _, fe := range ie.Errs {
			for _, de := range decodeErrs {
				if related(de.Path, fe.Path) {
					continue next
				}
			}
			if tmpl.locate(fe) {
				errs = append(errs, fe)
				continue
			}
			fe.File = filename
			if fe.Path == "spec.parallelTrialCount" && lookup(root, fe.Path) == nil {
				fe.Msg += fmt.Sprintf(" (parallelTrialCount is not given and defaults to %d, as in Katib, whose webhook then refuses the file too: set it)", DefaultParallelTrialCount)
				fe.Line, fe.Column = locate(root, "spec.maxTrialCount")
				errs = append(errs, fe)
				continue
			}
			fe.Line, fe.Column = locate(root, fe.Path)
			errs = append(errs, fe)
		}
	}
	if len(errs) > 0 {
		return nil, invalid(errs...)
	}
	return e, nil
}

// keepGeneric replaces the free-form parts of e decoded through JSON (where
// every number became a float64) with the decoder's values, which keep
// integers as int64 like Kubernetes unstructured objects.
func keepGeneric(e *Experiment, tree any) {
	top, _ := tree.(map[string]any)
	if st, ok := top["status"].(map[string]any); ok {
		e.Status = st
	}
	spec, _ := top["spec"].(map[string]any)
	tt, _ := spec["trialTemplate"].(map[string]any)
	if ts, ok := tt["trialSpec"].(map[string]any); ok && e.Spec.TrialTemplate != nil {
		e.Spec.TrialTemplate.TrialSpec = ts
	}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocument returns the root node of the single YAML document in data.
func parseDocument(data []byte, filename string) (*yaml.Node, *FieldError) {
	syntax := func(err error) *FieldError {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		fe := &FieldError{File: filename, Msg: "invalid YAML: " + msg}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			fe.Line, _ = strconv.Atoi(m[1])
			fe.Msg = "invalid YAML: " + m[2]
		}
		return fe
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{File: filename, Msg: "empty document"}
		}
		return nil, syntax(err)
	}
	for {
		var extra yaml.Node
		err := dec.Decode(&extra)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntax(err)
		}
		if len(extra.Content) > 0 && !isNull(extra.Content[0]) {
			return nil, &FieldError{File: filename, Line: extra.Content[0].Line,
				Msg: "a second YAML document is not allowed: a file holds one experiment"}
		}
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, &FieldError{File: filename, Msg: "empty document"}
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, &FieldError{File: filename, Line: root.Line, Column: root.Column,
			Msg: "expected a mapping (an Experiment object), got " + describe(root)}
	}
	return root, nil
}
