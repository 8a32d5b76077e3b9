//go:build tools

// Package tools pins k8s.io/kubernetes, whose control-plane commands and
// kubectl test/k8s/build.sh builds, and kwok. go.mod replaces the staging
// modules (k8s.io/api, ...) with their v0.37.2 releases; kwok v0.8.0 (on
// v0.36.1) builds against them too, so that it shares their compiled
// packages with the Kubernetes commands instead of compiling its own.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
