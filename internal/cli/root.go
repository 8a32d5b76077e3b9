// Package cli is the tune command tree. It parses flags and configuration,
// wires the packages together and prints; the packages it calls never print.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/tune-hpo/tune/store"
)

// IOStreams are the standard streams a command uses. Data goes to Out,
// progress and errors to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// IsTerminal says whether a stream is a terminal, which tune run's
	// live status block needs; nil asks the operating system (only an
	// *os.File can be one). Tests set it.
	IsTerminal func(w io.Writer) bool
}

// System returns the process's standard streams.
func System() IOStreams {
	return IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
}

// DefaultStorePath is where the store lives when nothing says otherwise,
// relative to the current directory.
const DefaultStorePath = ".tune/tune.db"

// globalOptions are the flags every command shares.
type globalOptions struct {
	storePath  string
	configPath string
}

// factory hands commands their shared dependencies.
type factory struct {
	io   IOStreams
	opts globalOptions
}

// openStore opens the store at the configured path; readOnly never creates it.
func (f *factory) openStore(readOnly bool) (*store.Store, error) {
	s, err := store.Open(f.opts.storePath, &store.Options{ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Main runs the tune command line with args (without the program name) and
// returns the process exit code. It prints errors once, to streams.ErrOut.
func Main(ctx context.Context, args []string, streams IOStreams) int {
	root := newRootCommand(streams, commandHooks{})
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var silent *codeError
	if errors.As(err, &silent) && silent.err == nil {
		return silent.code
	}
	if errors.Is(err, syscall.EPIPE) {
		// The reader of the output has gone (tune get trials | head):
		// nobody is left to read a message.
		return exitError
	}
	fmt.Fprintln(streams.ErrOut, escapeControl("tune: "+strings.TrimSpace(err.Error()), true))
	if errors.Is(err, store.ErrDamaged) {
		fmt.Fprintln(streams.ErrOut, "tune: the store is damaged: tune store check lists the damage, tune store recover --to NEWFILE copies what is readable")
	}
	return exitCode(err)
}

// commandHooks replace the work of a command once its flags, environment
// and configuration are parsed into its options; nil runs the command.
// Tests use them to see the options without running anything.
type commandHooks struct {
	run      func(context.Context, *runOptions) error
	validate func(context.Context, *validateOptions) error
	best     func(context.Context, *getOptions) error
}

func newRootCommand(streams IOStreams, hooks commandHooks) *cobra.Command {
	f := &factory{io: streams}
	root := &cobra.Command{
		Use:   "tune",
		Short: "Hyperparameter tuning for Katib experiment files, locally or on Kubernetes",
		Long: `tune runs Kubeflow Katib v1beta1 Experiment files: it suggests trials, runs each
one (as a local process by default), scrapes the metrics it prints, stores
everything in one bbolt file and reports the best trial.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return loadConfig(cmd, f)
		},
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetIn(streams.In)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%v", err) })
	pf := root.PersistentFlags()
	pf.StringVar(&f.opts.storePath, "store", DefaultStorePath, "bbolt store file (env TUNE_STORE)")
	pf.StringVar(&f.opts.configPath, "config", "", "config file (default $XDG_CONFIG_HOME/tune/config.yaml when present)")

	root.AddCommand(
		newRunCommand(f, hooks.run),
		newResumeCommand(f),
		newValidateCommand(f, hooks.validate),
		newCompileCommand(f),
		newGetCommand(f),
		newBestCommand(f, hooks.best),
		newDeleteCommand(f),
		newReportCommand(f),
		newStoreCommand(f),
	)
	return root
}

// loadConfig layers configuration as flag > env (TUNE_*) > config file >
// default, writing env and file values into flags the user did not set, so
// options structs stay the single source of truth (spf13/viper#461).
func loadConfig(cmd *cobra.Command, f *factory) error {
	v := viper.New()
	v.SetEnvPrefix("TUNE")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	path := f.opts.configPath
	if path == "" {
		if dir, err := os.UserConfigDir(); err == nil {
			candidate := filepath.Join(dir, "tune", "config.yaml")
			if _, err := os.Stat(candidate); err == nil {
				path = candidate
			}
		}
	}
	if path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return usageErrorf("config file %s: %v", path, err)
		}
	}
	var setErr error
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || fl.Name == "config" || !v.IsSet(fl.Name) || setErr != nil {
			return
		}
		if err := fl.Value.Set(v.GetString(fl.Name)); err != nil {
			setErr = usageErrorf("setting %s from environment or config: %v", fl.Name, err)
		}
	})
	return setErr
}
