package kube

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	argofake "github.com/argoproj/argo-workflows/v3/pkg/client/clientset/versioned/fake"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/tune-hpo/tune/internal/testutil"
	"github.com/tune-hpo/tune/trial"
)

const testNS = "team"

const jobYAML = `
apiVersion: batch/v1
kind: Job
metadata:
  labels:
    team: vision
spec:
  backoffLimit: 2
  template:
    metadata:
      labels:
        role: train
    spec:
      restartPolicy: Never
      nodeSelector:
        gpu: h100
      tolerations:
      - key: nvidia.com/gpu
        operator: Exists
        effect: NoSchedule
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: zone, operator: In, values: [a, b]}
      containers:
      - name: training-container
        image: python:3.12
        command: [python, train.py, --lr=0.01]
        resources:
          limits:
            nvidia.com/gpu: 1
            memory: 8Gi
`

const workflowYAML = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: python:3.12
      command: [python, train.py]
`

// The kinds the fake cluster serves through the dynamic client.
var (
	tfjobGVK    = schema.GroupVersionKind{Group: "kubeflow.org", Version: "v1", Kind: "TFJob"}
	widgetGVK   = schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}
	trainjobGVK = schema.GroupVersionKind{Group: "trainer.kubeflow.org", Version: "v1alpha1", Kind: "TrainJob"}

	dynamicListKinds = map[schema.GroupVersionResource]string{
		{Group: "kubeflow.org", Version: "v1", Resource: "tfjobs"}:                  "TFJobList",
		{Group: "example.com", Version: "v1", Resource: "widgets"}:                  "WidgetList",
		{Group: "trainer.kubeflow.org", Version: "v1alpha1", Resource: "trainjobs"}: "TrainJobList",
	}
)

// testMapper maps the kinds of dynamicListKinds, all namespaced.
func testMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	for _, gvk := range []schema.GroupVersionKind{tfjobGVK, widgetGVK, trainjobGVK} {
		m.Add(gvk, meta.RESTScopeNamespace)
	}
	return m
}

// object decodes a YAML manifest as the runner passes it.
func object(t *testing.T, manifest string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(manifest), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// newSpec returns a trial spec for manifest.
func newSpec(t *testing.T, manifest string) *trial.Spec {
	return &trial.Spec{
		Experiment:       "mnist",
		Name:             "mnist-0001",
		Object:           object(t, manifest),
		PrimaryContainer: "training-container",
		Namespace:        testNS,
	}
}

// fakes holds fake clients and a record of the watches they opened.
type fakes struct {
	kube *fake.Clientset
	argo *argofake.Clientset
	dyn  *dynamicfake.FakeDynamicClient
	mu   sync.Mutex
	// watches counts the watches opened per resource; watched is signalled
	// after each.
	watches map[string]int
	watched map[string]chan struct{}
}

func newFakes(objs ...runtime.Object) *fakes {
	var kobjs, aobjs, dobjs []runtime.Object
	for _, o := range objs {
		if _, ok := o.(*unstructured.Unstructured); ok {
			dobjs = append(dobjs, o)
		} else if o.GetObjectKind().GroupVersionKind().Group == "argoproj.io" {
			aobjs = append(aobjs, o)
		} else {
			kobjs = append(kobjs, o)
		}
	}
	f := &fakes{
		kube:    fake.NewClientset(kobjs...),
		argo:    argofake.NewSimpleClientset(aobjs...),
		dyn:     dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), dynamicListKinds, dobjs...),
		watches: map[string]int{},
		watched: map[string]chan struct{}{},
	}
	for _, r := range []string{"jobs", "pods", "workflows", "tfjobs", "widgets", "trainjobs", "nodes"} {
		f.watched[r] = make(chan struct{}, 100)
	}
	record := func(a k8stesting.Action) (bool, watch.Interface, error) {
		f.mu.Lock()
		f.watches[a.GetResource().Resource]++
		f.mu.Unlock()
		if c, ok := f.watched[a.GetResource().Resource]; ok {
			c <- struct{}{}
		}
		return false, nil, nil
	}
	f.kube.PrependWatchReactor("*", record)
	f.argo.PrependWatchReactor("*", record)
	f.dyn.PrependWatchReactor("*", record)
	return f
}

// executor returns an executor on the fakes.
func (f *fakes) executor(t *testing.T, opts Options) *Executor {
	t.Helper()
	opts.Kubernetes = f.kube
	opts.Argo = f.argo
	opts.Dynamic = f.dyn
	if opts.RESTMapper == nil {
		opts.RESTMapper = testMapper()
	}
	if opts.Namespace == "" {
		opts.Namespace = "elsewhere"
	}
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// waitWatch waits for the next watch of resource to open.
func (f *fakes) waitWatch(t *testing.T, resource string) {
	t.Helper()
	select {
	case <-f.watched[resource]:
		// The reactor runs before the fake tracker registers the watch:
		// let it finish.
		time.Sleep(20 * time.Millisecond)
	case <-time.After(10 * time.Second):
		t.Fatalf("no watch of %s opened", resource)
	}
}

// actions returns the recorded actions with verb on resource.
func actions(cs interface{ Actions() []k8stesting.Action }, verb, resource string) []k8stesting.Action {
	var out []k8stesting.Action
	for _, a := range cs.Actions() {
		if a.GetVerb() == verb && a.GetResource().Resource == resource && a.GetSubresource() == "" {
			out = append(out, a)
		}
	}
	return out
}

// run is the outcome of a Run or Attach in the background.
type run struct {
	done   chan struct{}
	res    trial.Result
	err    error
	stdout syncBuffer
}

// start calls fn (Run or Attach) in the background.
func start(ctx context.Context, spec *trial.Spec, fn func(context.Context, *trial.Spec, io.Writer, io.Writer) (trial.Result, error)) *run {
	r := &run{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.res, r.err = fn(ctx, spec, &r.stdout, io.Discard)
	}()
	return r
}

// wait waits for the run to return.
func (r *run) wait(t *testing.T) (trial.Result, error) {
	t.Helper()
	select {
	case <-r.done:
		return r.res, r.err
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
	}
	return trial.Result{}, nil
}

// syncBuffer is the tests' concurrency-safe buffer.
type syncBuffer = testutil.SyncBuffer

// readCloser turns a string into a log stream.
func readCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

var jsonMarshal = json.Marshal
