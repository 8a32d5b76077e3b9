//go:build tools

// Package tools pins the kwok module that test/k8s/build.sh builds.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
