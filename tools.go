//go:build tools

// This file pins dependencies that packages being written will import; it is
// removed once every one of them has a real importer.
package tools

import (
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/jedib0t/go-pretty/v6/table"
	_ "github.com/spf13/cobra"
	_ "github.com/spf13/viper"
	_ "go.etcd.io/bbolt"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/term"
	_ "gonum.org/v1/gonum/mat"
	_ "k8s.io/api/batch/v1"
	_ "k8s.io/api/core/v1"
	_ "sigs.k8s.io/yaml"
)
