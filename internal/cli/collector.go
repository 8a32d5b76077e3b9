package cli

import (
	"encoding/json"
	"os"
	"os/signal"
	"regexp"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/trial/kube"
)

// newCollectorCommand is what trial pods on Kubernetes run when the
// experiment's collector is not StdOut (docs/kubernetes.md, "Collectors"):
// not meant to be typed, so it is hidden from the help.
func newCollectorCommand(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:    "collector",
		Short:  "Run tune's metrics collector inside a trial's pod",
		Hidden: true,
		Args:   exactArgs(0, "a subcommand: install or run"),
	}
	install := &cobra.Command{
		Use:   "install DIR",
		Short: "Copy this tune binary to DIR/tune (a trial pod's init container)",
		Args:  exactArgs(1, "DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return collect.Install(args[0])
		},
	}
	var config string
	run := &cobra.Command{
		Use:   "run --config JSON -- COMMAND [ARG...]",
		Short: "Run COMMAND, forwarding the metrics it writes or serves through standard output",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var cfg collect.PodConfig
			dec := json.NewDecoder(strings.NewReader(config))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&cfg); err != nil {
				return usageErrorf("--config %q: %v", config, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			code, err := collect.RunInPod(ctx, cfg, args, f.io.Out, f.io.ErrOut)
			if err != nil {
				return &codeError{code: 127, err: err}
			}
			if code != 0 {
				return &codeError{code: code} // the trial program's own status, passed on
			}
			return nil
		},
	}
	run.Flags().StringVar(&config, "config", "", "the collector, as JSON (written by tune when it submits the trial)")
	cmd.AddCommand(install, run)
	return cmd
}

// releaseTag matches a release version such as v1.2.3.
var releaseTag = regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)

// defaultCollectorImage is the image of this tune's release
// (ghcr.io/tune-hpo/tune:v1.2.3), or kube's default (latest) for a build
// that is not a release.
func defaultCollectorImage() string {
	bi, _ := debug.ReadBuildInfo()
	if v := readVersion(bi).Version; releaseTag.MatchString(v) {
		return "ghcr.io/tune-hpo/tune:" + v
	}
	return kube.DefaultCollectorImage
}

// collectorImageUsage is the help of --collector-image.
const collectorImageUsage = "image a Kubernetes trial pod copies tune from to run the experiment's File, TensorFlowEvent, PrometheusMetric or Push collector in its primary container (tune must be on its PATH)"
