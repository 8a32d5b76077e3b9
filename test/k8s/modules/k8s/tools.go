//go:build tools

// Package tools pins k8s.io/kubernetes, whose control-plane commands and
// kubectl test/k8s/build.sh builds. go.mod replaces its staging modules
// (k8s.io/api, ...) with their v0.37.2 releases.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
