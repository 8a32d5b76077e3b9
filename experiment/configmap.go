package experiment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tune-hpo/tune/trial/manifest"
	"github.com/tune-hpo/tune/trial/pipeline/kfp"
)

// ErrTemplateUnavailable is wrapped by a [ConfigMapLookup]'s error when it
// could not look for the ConfigMap at all (no file to read, no cluster to
// ask), as opposed to looking and not finding it.
var ErrTemplateUnavailable = errors.New("trial template ConfigMap not available")

// ErrTemplateNotRead is wrapped by [CheckRunnable]'s error for an
// experiment whose trial template is still in a ConfigMap.
var ErrTemplateNotRead = errors.New("was not read")

// ConfigMapLookup returns the ConfigMap a trial template names
// (spec.trialTemplate.configMap) and where it was found, a file name or a
// cluster, for messages. An error wrapping [ErrTemplateUnavailable] means
// it could not look; any other error, that the ConfigMap is missing or
// cannot be read.
type ConfigMapLookup func(src ConfigMapSource) (cm *corev1.ConfigMap, where string, err error)

// LoadWith is [Load] for an experiment whose trial template may be in a
// ConfigMap: the template is read as Katib's controller reads it (the
// ConfigMap's data key templatePath holds the trialSpec's YAML), checked
// as an inline trialSpec would be, and the experiment returned holds it
// as its trialSpec, without configMap. Problems in the template are
// reported at their line in the template (FILE[KEY]:LINE:COLUMN).
//
// A nil lookup, or an experiment with an inline trialSpec, makes LoadWith
// the same as Load. When lookup's error wraps [ErrTemplateUnavailable],
// LoadWith returns it (not an [*InvalidError]); any other lookup error is
// a problem of the file, at spec.trialTemplate.configMap.
func LoadWith(path string, lookup ConfigMapLookup) (*Experiment, []byte, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, nil, err
	}
	e, err := parse(data, path, lookup)
	if err != nil {
		return nil, data, err
	}
	return e, data, nil
}

// ParseWith is [Parse] with a trial template read through lookup, as
// [LoadWith] reads it.
func ParseWith(data []byte, filename string, lookup ConfigMapLookup) (*Experiment, error) {
	return parse(data, filename, lookup)
}

// templateRef returns the ConfigMap source e's trial template names, or
// nil when it has an inline trialSpec or names no complete source.
func templateRef(e *Experiment) *ConfigMapSource {
	tt := e.Spec.TrialTemplate
	if tt == nil || tt.TrialSpec != nil || tt.ConfigMap == nil {
		return nil
	}
	if c := tt.ConfigMap; c.ConfigMapName == "" || c.ConfigMapNamespace == "" || c.TemplatePath == "" {
		return nil
	}
	return tt.ConfigMap
}

// template is a trial template read from a ConfigMap.
type template struct {
	spec map[string]any
	root *yaml.Node // of the template's YAML, for positions
	file string     // FILE[KEY], for messages
}

const trialSpecPath = "spec.trialTemplate.trialSpec"

// readTemplate reads the template src names from cm, found at where. It
// returns nil and the problems when there is no usable template.
func readTemplate(cm *corev1.ConfigMap, src *ConfigMapSource, where, filename string) (*template, []*FieldError) {
	const p = "spec.trialTemplate.configMap"
	fail := func(path, format string, args ...any) (*template, []*FieldError) {
		return nil, []*FieldError{{File: filename, Path: path, Msg: fmt.Sprintf(format, args...)}}
	}
	id := src.ConfigMapNamespace + "/" + src.ConfigMapName
	if cm.Name != src.ConfigMapName || (cm.Namespace != "" && cm.Namespace != src.ConfigMapNamespace) {
		return fail(p, "%s holds ConfigMap %s/%s, not %s", where, cm.Namespace, cm.Name, id)
	}
	text, ok := cm.Data[src.TemplatePath]
	if !ok {
		keys := make([]string, 0, len(cm.Data))
		for k := range cm.Data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return fail(p+".templatePath", "ConfigMap %s (%s) has no key %q (it has: %s)", id, where, src.TemplatePath, strings.Join(keys, ", "))
	}
	file := fmt.Sprintf("%s[%s]", where, src.TemplatePath)
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return fail(p+".templatePath", "ConfigMap %s key %q is not YAML: %s", id, src.TemplatePath, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 || resolve(doc.Content[0]).Kind != yaml.MappingNode {
		return fail(p+".templatePath", "ConfigMap %s key %q does not hold a trial template (a Kubernetes object)", id, src.TemplatePath)
	}
	root := resolve(doc.Content[0])
	d := newDecoder(file, root)
	v, ok := d.generic(root, trialSpecPath)
	spec, _ := v.(map[string]any)
	if !ok || spec == nil {
		return nil, d.errs
	}
	switch {
	case manifest.IsKind(spec, manifest.JobGVK):
		d.build(root, reflect.TypeFor[batchv1.Job](), trialSpecPath, false)
	case kfp.IsKind(spec):
		d.build(root, reflect.TypeFor[kfp.Job](), trialSpecPath, false)
	}
	return &template{spec: spec, root: root, file: file}, d.errs
}

// locateTemplate sets fe's position in t when fe is about the trialSpec,
// and reports whether it did.
func (t *template) locate(fe *FieldError) bool {
	if t == nil || !related(trialSpecPath, fe.Path) || len(fe.Path) < len(trialSpecPath) {
		return false
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(fe.Path, trialSpecPath), ".")
	fe.File = t.file
	fe.Line, fe.Column = locate(t.root, rest)
	return true
}

// ConfigMapFiles returns a [ConfigMapLookup] that reads ConfigMaps from
// YAML files, as kubectl apply -f takes them: each file holds one or more
// documents, each a ConfigMap or a v1 List of objects; other kinds are
// skipped. A ConfigMap matches by name, and by namespace when it has one.
//
// With no files, the lookup reads CONFIGMAPNAME.yaml, or else
// CONFIGMAPNAME.yml, in dir (the experiment file's directory); when
// neither exists its error wraps [ErrTemplateUnavailable].
func ConfigMapFiles(dir string, files ...string) ConfigMapLookup {
	return func(src ConfigMapSource) (*corev1.ConfigMap, string, error) {
		id := src.ConfigMapNamespace + "/" + src.ConfigMapName
		paths := files
		if len(paths) == 0 {
			for _, ext := range []string{".yaml", ".yml"} {
				p := filepath.Join(dir, src.ConfigMapName+ext)
				if _, err := os.Stat(p); err == nil {
					paths = []string{p}
					break
				}
			}
			if len(paths) == 0 {
				return nil, "", fmt.Errorf("ConfigMap %s: no %s.yaml next to the experiment file and no ConfigMap file given: %w", id, src.ConfigMapName, ErrTemplateUnavailable)
			}
		}
		for _, p := range paths {
			cms, err := readConfigMaps(p)
			if err != nil {
				return nil, "", err
			}
			for _, cm := range cms {
				if cm.Name == src.ConfigMapName && (cm.Namespace == "" || cm.Namespace == src.ConfigMapNamespace) {
					return cm, p, nil
				}
			}
		}
		return nil, "", fmt.Errorf("ConfigMap %s is not in %s", id, strings.Join(paths, ", "))
	}
}

// readConfigMaps returns the ConfigMaps in the YAML file at path.
func readConfigMaps(path string) ([]*corev1.ConfigMap, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, fmt.Errorf("read ConfigMap file: %w", err)
	}
	var out []*corev1.ConfigMap
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 1; ; i++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, i, err)
		}
		items := []any{doc}
		if doc["kind"] == "List" {
			items, _ = doc["items"].([]any)
		}
		for j, item := range items {
			obj, _ := item.(map[string]any)
			if obj["kind"] != "ConfigMap" {
				continue
			}
			raw, err := json.Marshal(obj)
			if err != nil {
				return nil, fmt.Errorf("%s: document %d: %w", path, i, err)
			}
			var cm corev1.ConfigMap
			if err := manifest.Decode(raw, &cm); err != nil {
				return nil, fmt.Errorf("%s: document %d, item %d: ConfigMap: %w", path, i, j, err)
			}
			out = append(out, &cm)
		}
	}
}
