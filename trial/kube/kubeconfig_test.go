package kube

import (
	"os"
	"path/filepath"
	"testing"
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
