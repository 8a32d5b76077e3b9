// Package cli is the tune command tree. It parses flags and configuration,
// wires the packages together and prints; the packages it calls never print.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/tune-hpo/tune/internal/didyoumean"
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
	// cobra reads os.Args when given nil: Main's args are the only input.
	root.SetArgs(append([]string{}, args...))
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
	// extra, when not nil, returns commands added to the root.
	extra func(*factory) []*cobra.Command
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
		// An unknown command is a usage error with a suggestion, as for
		// the subcommands of get, delete and store.
		Args: subcommandArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return loadConfig(cmd, f)
		},
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetIn(streams.In)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErrorf("%v%s", err, flagHint(c, err)) })
	pf := root.PersistentFlags()
	pf.StringVar(&f.opts.storePath, "store", DefaultStorePath, "bbolt store file (env TUNE_STORE)")
	pf.StringVar(&f.opts.configPath, "config", "", "config file (default $XDG_CONFIG_HOME/tune/config.yaml when present)")

	root.AddCommand(
		newRunCommand(f, hooks.run),
		newResumeCommand(f),
		newValidateCommand(f, hooks.validate),
		newCompileCommand(f),
		newRBACCommand(f),
		newGetCommand(f),
		newBestCommand(f, hooks.best),
		newDeleteCommand(f),
		newReportCommand(f),
		newStoreCommand(f),
		newVersionCommand(f),
		newImportanceCommand(f),
		newDescribeCommand(f),
		newLogsCommand(f),
		newCompareCommand(f),
		newPlotCommand(f),
		newExportCommand(f),
		newUICommand(f),
		newCollectorCommand(f),
		newBenchCommand(f),
	)
	if hooks.extra != nil {
		root.AddCommand(hooks.extra(f)...)
	}
	return root
}

// flagHint returns `; did you mean "--name"?` for an unknown-flag error of
// pflag naming a long flag near one of c's flags, or "".
func flagHint(c *cobra.Command, err error) string {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return ""
	}
	var names []string
	c.Flags().VisitAll(func(fl *pflag.Flag) { names = append(names, fl.Name) })
	c.InheritedFlags().VisitAll(func(fl *pflag.Flag) { names = append(names, fl.Name) })
	if near, ok := didyoumean.Closest(name, names); ok {
		return fmt.Sprintf("; did you mean --%s?", near)
	}
	return ""
}

// warnUnknownKeys warns, on w, about each of keys (a config file's keys)
// that is no flag of any command of root, naming file and the nearest flag.
func warnUnknownKeys(w io.Writer, root *cobra.Command, file string, keys []string) {
	flags := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		add := func(fl *pflag.Flag) { flags[fl.Name] = true }
		c.LocalFlags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	delete(flags, "config")
	delete(flags, "help")
	names := slices.Sorted(maps.Keys(flags))
	for _, k := range slices.Sorted(slices.Values(keys)) {
		if flags[k] {
			continue
		}
		fmt.Fprintln(w, escapeControl(fmt.Sprintf("tune: warning: config file %s: unknown key %q (no command has such a flag), ignored%s", file, k, didyoumean.Hint(k, names)), false))
	}
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
		warnUnknownKeys(f.io.ErrOut, cmd.Root(), path, v.AllKeys())
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
