//go:build k8se2e

package e2e

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// TestScaleTrials runs $TUNE_SCALE_TRIALS trials (default 100),
// $TUNE_SCALE_PARALLEL at a time (default 20), across the two CPU nodes,
// with tune talking to the API server through a proxy that counts its
// requests. Every trial must succeed with the loss its pod printed for its
// parameters, and tune must never have been throttled for a second or
// more by its client-side rate limit, nor answered 429 by the server.
// It reports (t.Log, not asserted): wall time, submit-to-running latency
// (Job created to its pod Running, as this test's watches see them), API
// requests per trial by verb and resource, tune's CPU time per trial and
// its peak resident memory.
func TestScaleTrials(t *testing.T) {
	n, parallel := envInt(t, "TUNE_SCALE_TRIALS", 100), envInt(t, "TUNE_SCALE_PARALLEL", 20)
	c := newCluster(t)
	ns := c.namespace(t)
	ctx, cancel := context.WithCancel(t.Context())

	// Creation and running times as this test sees them.
	var mu sync.Mutex
	created := map[string]time.Time{}
	running := map[string]time.Time{}
	jobs := watchAlways(ctx, func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
		return c.kube.BatchV1().Jobs(ns).Watch(ctx, opts)
	}, func(ev watch.Event) {
		if j, ok := ev.Object.(interface{ GetName() string }); ok && ev.Type == watch.Added {
			mu.Lock()
			if _, seen := created[j.GetName()]; !seen {
				created[j.GetName()] = time.Now()
			}
			mu.Unlock()
		}
	})
	pods := watchAlways(ctx, func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
		return c.kube.CoreV1().Pods(ns).Watch(ctx, opts)
	}, func(ev watch.Event) {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok || p.Status.Phase != corev1.PodRunning {
			return
		}
		job := p.Labels["batch.kubernetes.io/job-name"]
		mu.Lock()
		if _, seen := running[job]; !seen {
			running[job] = time.Now()
		}
		mu.Unlock()
	})
	defer func() {
		cancel()
		jobs.Wait()
		pods.Wait()
	}()
	c.fakeKubelet(t, ns)

	dir := t.TempDir()
	counts, kubeconfig := countingProxy(t, dir)
	// No nodeSelector and no GPU: the scheduler spreads the pods over the
	// two CPU nodes, the GPU nodes' taint keeping them off those.
	placed := c.recordPlacements(t, ns)
	y := jobExperiment("scale", ns, parallel, n, 1, 0, "")
	y = strings.Replace(y, `            nodeSelector: {tune.test/gpu: "true"}`+"\n", "", 1)
	y = strings.Replace(y, "                resources:\n                  limits: {nvidia.com/gpu: \"0\"}\n", "", 1)
	file := writeExperiment(t, dir, y)
	start := time.Now()
	cmd, out := startTune(t, dir, "run", "-q", "--executor", "kubernetes", "--kubeconfig", kubeconfig, file)
	if err := cmd.Wait(); err != nil {
		var failed []string
		for _, tr := range trials(t, dir, "scale") {
			if tr.Status != "Succeeded" {
				failed = append(failed, fmt.Sprintf("%s: %s/%s: %s", tr.Name, tr.Status, tr.Reason, tr.Message))
			}
		}
		t.Fatalf("tune run: %v\n%s\ntrials not Succeeded:\n%s", err, out, strings.Join(failed, "\n"))
	}
	wall := time.Since(start)
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	var maxRSS int64 // KiB on Linux
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		maxRSS = ru.Maxrss
	}
	if s := out.String(); strings.Contains(s, "client-side throttling") {
		t.Errorf("tune was throttled by its client-side rate limit:\n%s", s)
	}

	// Every trial succeeded with the loss its pod printed for its
	// parameters: none lost, none given another's result.
	ts := trials(t, dir, "scale")
	if len(ts) != n {
		t.Errorf("%d trials, want %d", len(ts), n)
	}
	for _, tr := range ts {
		want := trialLoss([]string{"--x=" + tr.Parameters["x"], "--y=" + tr.Parameters["y"]})
		if got, ok := tr.Metrics["loss"]; tr.Status != "Succeeded" || !ok || math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: %s (%s: %s) with loss %v, want Succeeded with loss %v", tr.Name, tr.Status, tr.Reason, tr.Message, tr.Metrics["loss"], want)
		}
	}
	gpu := c.gpuNodes(t)
	perNode := map[string]int{}
	for pod, p := range placed() {
		perNode[p.node]++
		if gpu[p.node] || p.toleratesGPUs {
			t.Errorf("CPU-only pod %s on node %s (a GPU node: %v), tolerating nvidia.com/gpu: %v; want a CPU node and no toleration", pod, p.node, gpu[p.node], p.toleratesGPUs)
		}
	}
	t.Logf("pods per node: %v", perNode)

	total, byKind, tooMany := counts()
	if tooMany > 0 {
		t.Errorf("the API server answered 429 Too Many Requests %d times", tooMany)
	}
	kinds := slices.Sorted(func(yield func(string) bool) {
		for k := range byKind {
			if !yield(k) {
				return
			}
		}
	})
	var per []string
	for _, k := range kinds {
		per = append(per, fmt.Sprintf("%s %.2f", k, float64(byKind[k])/float64(n)))
	}
	t.Logf("API requests: %d, %.1f per trial: %s", total, float64(total)/float64(n), strings.Join(per, ", "))

	mu.Lock()
	var lat []time.Duration
	for job, c := range created {
		if r, ok := running[job]; ok {
			lat = append(lat, r.Sub(c))
		}
	}
	mu.Unlock()
	slices.Sort(lat)
	if len(lat) == 0 {
		t.Fatal("no submit-to-running latency measured")
	}
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(time.Millisecond) }
	t.Logf("%d trials, %d at a time: %s wall (%.1f trials/s); submit-to-running latency over %d trials: median %s, p95 %s, max %s; tune's CPU time %s in all, %s per trial; peak RSS %.1f MiB",
		n, parallel, wall.Round(time.Millisecond), float64(n)/wall.Seconds(), len(lat), q(0.5), q(0.95), q(1),
		cpu.Round(time.Millisecond), (cpu / time.Duration(n)).Round(time.Microsecond), float64(maxRSS)/1024)
}

// envInt returns the positive integer in environment variable name, or def
// when it is not set.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// countingProxy starts, on loopback, a proxy to the API server of
// $KUBECONFIG that authenticates as that kubeconfig's user and counts the
// requests it forwards, and writes a kubeconfig for it into dir. counts
// returns the requests so far, by "verb resource[/subresource]", and how
// many were answered 429.
func countingProxy(t *testing.T, dir string) (counts func() (total int, byKind map[string]int, tooMany int), kubeconfig string) {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	transport, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	byKind := map[string]int{}
	total, tooMany := 0, 0
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
		},
		Transport:     transport,
		FlushInterval: -1, // watches and log streams flow as they come
		ModifyResponse: func(resp *http.Response) error {
			if resp.StatusCode == http.StatusTooManyRequests {
				mu.Lock()
				tooMany++
				mu.Unlock()
			}
			return nil
		},
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		total++
		byKind[requestKind(r)]++
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	kubeconfig = filepath.Join(dir, "proxy-kubeconfig")
	config := fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: proxy
clusters: [{name: proxy, cluster: {server: "http://%s"}}]
users: [{name: proxy, user: {}}]
contexts: [{name: proxy, context: {cluster: proxy, user: proxy}}]
`, l.Addr())
	if err := os.WriteFile(kubeconfig, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return func() (int, map[string]int, int) {
		mu.Lock()
		defer mu.Unlock()
		out := make(map[string]int, len(byKind))
		for k, v := range byKind {
			out[k] = v
		}
		return total, out, tooMany
	}, kubeconfig
}

// requestKind names an API request as "verb resource[/subresource]", the
// verb as the API server's audit log would (get, list, watch, create,
// update, patch, delete).
func requestKind(r *http.Request) string {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// /api/v1/... or /apis/GROUP/VERSION/...
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return r.Method + " " + r.URL.Path // discovery and the like
	}
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) > 2 {
		parts = parts[2:]
	}
	resource, named := "", false
	if len(parts) > 0 {
		resource = parts[0]
	}
	if len(parts) > 1 {
		named = true
	}
	if len(parts) > 2 {
		resource += "/" + parts[2]
	}
	verb := strings.ToLower(r.Method)
	switch r.Method {
	case http.MethodGet:
		switch {
		case r.URL.Query().Get("watch") == "true" || r.URL.Query().Get("watch") == "1":
			verb = "watch"
		case named:
			verb = "get"
		default:
			verb = "list"
		}
	case http.MethodPost:
		verb = "create"
	case http.MethodPut:
		verb = "update"
	}
	return verb + " " + resource
}
