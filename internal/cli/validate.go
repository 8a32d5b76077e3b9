package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/tune-hpo/tune/experiment"
)

// validateOptions are the inputs of tune validate.
type validateOptions struct {
	f    *factory
	file string
}

func newValidateCommand(f *factory, runF func(context.Context, *validateOptions) error) *cobra.Command {
	o := &validateOptions{f: f}
	return &cobra.Command{
		Use:   "validate FILE",
		Short: "Check an experiment file and print it with Katib's defaults applied",
		Long: `Check a Katib v1beta1 Experiment file without running it. Every problem is
reported with its field path and line; the exit status is 2 when the file is
invalid or asks for what tune cannot run (an algorithm Katib knows but tune
does not implement: enas, darts, pbt). A valid file is printed back as YAML
with the defaults applied.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.file = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runValidate(o)
		},
	}
}

// loadExperiment is experiment.Load with a file that cannot be read
// (missing, a directory, not permitted) reported as invalid input: exit
// code 2, as for an invalid file.
func loadExperiment(file string) (*experiment.Experiment, []byte, error) {
	exp, src, err := experiment.Load(file)
	if _, ok := errors.AsType[*fs.PathError](err); ok && !errors.Is(err, experiment.ErrInvalid) {
		return nil, nil, &codeError{code: exitInvalid, err: err}
	}
	return exp, src, err
}

func runValidate(o *validateOptions) error {
	exp, _, err := loadExperiment(o.file)
	if err != nil {
		return err
	}
	if err := experiment.CheckRunnable(exp); err != nil {
		return err
	}
	b, err := yaml.Marshal(exp)
	if err != nil {
		return fmt.Errorf("print %s: %w", o.file, err)
	}
	_, err = o.f.io.Out.Write(b)
	return err
}
