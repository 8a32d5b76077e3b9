package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/metrics/push"
)

// reportTimeout bounds one tune report call.
const reportTimeout = 30 * time.Second

// reportOptions are the inputs of tune report.
type reportOptions struct {
	f     *factory
	step  int64
	pairs []string
}

func newReportCommand(f *factory) *cobra.Command {
	o := &reportOptions{f: f}
	cmd := &cobra.Command{
		Use:   "report [--step N] NAME=VALUE ...",
		Short: "Report a trial's metrics to the experiment (Push collector)",
		Long: `Report metrics from inside a trial of an experiment whose
metricsCollectorSpec.collector.kind is Push. tune gives each such trial the
address to report to (unix:/path, a socket only its user can reach, or
http://HOST:PORT with tune run --push-address) and a secret token, as
` + push.EnvURL + ` and ` + push.EnvToken + `; this command sends NAME=VALUE pairs there, all or
none: a metric the experiment does not declare, or a value that is not a
finite number, refuses the whole report, and the command exits non-zero
with the experiment's explanation.

  tune report --step 3 accuracy=0.91 loss=0.27`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("%s: expected NAME=VALUE pairs; see %s --help", cmd.CommandPath(), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.pairs = args
			return runReport(cmd.Context(), o)
		},
	}
	cmd.Flags().Int64Var(&o.step, "step", -1, "training step or epoch of the values (-1: unknown)")
	return cmd
}

func runReport(ctx context.Context, o *reportOptions) error {
	if o.step < -1 {
		return usageErrorf("--step %d: want a step from 0, or -1 for unknown", o.step)
	}
	req := push.Request{Metrics: make([]push.Metric, 0, len(o.pairs))}
	for _, p := range o.pairs {
		name, text, ok := strings.Cut(p, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return usageErrorf("%q: want NAME=VALUE", p)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return usageErrorf("%q: value %q is not a number", p, text)
		}
		// NaN and ±Inf (and overflows) go to the server, which refuses
		// them and records the refusal in the experiment's log.
		req.Metrics = append(req.Metrics, push.Metric{Name: name, Value: v, Step: o.step})
	}
	url, token := os.Getenv(push.EnvURL), os.Getenv(push.EnvToken)
	if url == "" || token == "" {
		return fmt.Errorf("%s and %s are not set: tune report must run inside a trial of an experiment whose metricsCollectorSpec.collector.kind is Push", push.EnvURL, push.EnvToken)
	}
	ctx, cancel := context.WithTimeout(ctx, reportTimeout)
	defer cancel()
	if err := push.Report(ctx, url, token, req); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
