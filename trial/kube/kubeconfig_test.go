package kube

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
)

const kubeconfig = `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: t}
contexts:
- name: dev
  context: {cluster: c, user: u, namespace: ml}
- name: bare
  context: {cluster: c, user: u}
`

func TestNewFromKubeconfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		path, context, namespace string
		env                      bool
		want                     string
	}{
		"context namespace":   {path: path, want: "ml"},
		"explicit namespace":  {path: path, namespace: "ops", want: "ops"},
		"context without one": {path: path, context: "bare", want: "default"},
		"from KUBECONFIG":     {env: true, want: "ml"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.env {
				t.Setenv("KUBECONFIG", path)
			} else {
				t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
			}
			e, err := NewFromKubeconfig(tc.path, tc.context, Options{Namespace: tc.namespace})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Namespace(); got != tc.want {
				t.Errorf("Namespace() = %q, want %q", got, tc.want)
			}
			if e.opts.Argo == nil {
				t.Error("no Argo client")
			}
		})
	}
	t.Run("no such context", func(t *testing.T) {
		if _, err := NewFromKubeconfig(path, "prod", Options{}); err == nil {
			t.Error("NewFromKubeconfig with an unknown context succeeded")
		}
	})
}

// TestRateLimitFollowsParallelism checks the clients NewFromKubeconfig
// makes: the API client's client-side rate limit grows with the
// experiment's parallelism, the log client has none.
func TestRateLimitFollowsParallelism(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		parallelism int
		qps         float32
	}{{0, 50}, {3, 50}, {20, 50}, {100, 200}, {300, 600}, {5000, 1000}} {
		e, err := NewFromKubeconfig(path, "", Options{Parallelism: tc.parallelism})
		if err != nil {
			t.Fatal(err)
		}
		api := e.opts.Kubernetes.CoreV1().RESTClient().GetRateLimiter()
		if api == nil || api.QPS() != tc.qps {
			t.Errorf("parallelism %d: API client's rate limiter %v, want %v requests a second", tc.parallelism, api, tc.qps)
		}
		if l := e.opts.LogClient.CoreV1().RESTClient().GetRateLimiter(); l != nil {
			t.Errorf("parallelism %d: log client rate-limited at %v requests a second, want no limit", tc.parallelism, l.QPS())
		}
	}
	// A kubeconfig's own limit is kept.
	cfg := &rest.Config{Host: "https://127.0.0.1:1", QPS: 7, Burst: 9}
	api, logs := clientConfigs(cfg, 100)
	if api.QPS != 7 || api.Burst != 9 || logs.QPS >= 0 || cfg.QPS != 7 {
		t.Errorf("clientConfigs of QPS 7 = %v, %v (and %v left), want the API's kept, the logs' unlimited, the original untouched", api.QPS, logs.QPS, cfg.QPS)
	}
}

// TestLogStreamsBypassRateLimit checks that pod logs are opened with the
// log client, not the API client.
func TestLogStreamsBypassRateLimit(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		fmt.Fprintln(w, "2026-12-03T00:00:00Z loss=1")
	}))
	defer srv.Close()
	logs, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, QPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Kubernetes: fake.NewClientset(), LogClient: logs})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := e.logs(t.Context(), "ml", "p-0", "training", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !strings.HasPrefix(got[0], "/api/v1/namespaces/ml/pods/p-0/log?") || !strings.Contains(string(b), "loss=1") {
		t.Errorf("log client got %v and read %q; want one log request for pod p-0", got, b)
	}
}
