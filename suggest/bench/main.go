package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// defaultAlgorithms is the -algorithms default: every algorithm the
// benchmark knows to compare, implemented or not yet.
const defaultAlgorithms = "random,sobol,tpe,multivariate-tpe,cmaes,bayesianoptimization"

// options are the parsed command-line flags.
type options struct {
	budgets    []int          // sorted, distinct
	seeds      int            // runs per cell
	parallel   []int          // sorted, distinct
	functions  []testFunction // in table order
	algorithms []string       // as listed, before skipping
	output     string         // -o file, "" for none
	raw        string         // -raw file, "" for none
	workers    int            // concurrent runs
	args       []string       // the command line, for the report
}

// parseFlags parses args into options, writing usage and flag errors to
// stderr.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		budgets    = fs.String("budgets", "50,100", "comma-separated evaluation `budgets`; one run of the largest, regret at each")
		seeds      = fs.Int("seeds", 10, "number of seeds (independent runs) per function, algorithm and parallelism")
		parallel   = fs.String("parallel", "1,4", "comma-separated `parallelisms`: trials pending at once")
		funcs      = fs.String("functions", "", "comma-separated test `functions` (default all: "+strings.Join(functionNames(), ",")+")")
		algorithms = fs.String("algorithms", defaultAlgorithms, "comma-separated Katib algorithm `names`; unimplemented ones are skipped")
		output     = fs.String("o", "", "also write the markdown report to `file`")
		raw        = fs.String("raw", "", "also write every run's regret at each budget to `file`, one JSON object per line, for comparisons with other tools")
		workers    = fs.Int("workers", runtime.GOMAXPROCS(0), "runs executed concurrently")
		quick      = fs.Bool("quick", false, "smoke run: budgets 10,20, 2 seeds, parallelism 1,2 unless set explicitly")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: tune bench suggest [flags]\n\n"+
			"Runs search algorithms on test functions with known minima and prints\n"+
			"the simple regret (best value found minus the minimum) as markdown.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		if !set["budgets"] {
			*budgets = "10,20"
		}
		if !set["seeds"] {
			*seeds = 2
		}
		if !set["parallel"] {
			*parallel = "1,2"
		}
	}
	o := &options{seeds: *seeds, output: *output, raw: *raw, workers: *workers, args: args}
	var err error
	if o.budgets, err = parseInts("budgets", *budgets); err != nil {
		return nil, err
	}
	if o.parallel, err = parseInts("parallel", *parallel); err != nil {
		return nil, err
	}
	if o.seeds < 1 {
		return nil, fmt.Errorf("-seeds %d: want at least 1", o.seeds)
	}
	if o.workers < 1 {
		return nil, fmt.Errorf("-workers %d: want at least 1", o.workers)
	}
	if o.functions, err = selectFunctions(*funcs); err != nil {
		return nil, err
	}
	o.algorithms = splitList(*algorithms)
	if len(o.algorithms) == 0 {
		return nil, errors.New("-algorithms: empty list")
	}
	return o, nil
}

// parseInts parses a comma-separated list of positive integers, sorted and
// without duplicates.
func parseInts(flagName, s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-%s: %q is not a positive integer", flagName, f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-%s: empty list", flagName)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// functionNames returns the names of every test function.
func functionNames() []string {
	var names []string
	for _, f := range functions() {
		names = append(names, f.name)
	}
	return names
}

// selectFunctions returns the test functions named in the comma-separated
// list, in table order, or all of them for an empty list.
func selectFunctions(list string) ([]testFunction, error) {
	all := functions()
	names := splitList(list)
	if len(names) == 0 {
		return all, nil
	}
	var out []testFunction
	for _, f := range all {
		if slices.Contains(names, f.name) {
			out = append(out, f)
		}
	}
	for _, n := range names {
		if !slices.Contains(functionNames(), n) {
			return nil, fmt.Errorf("-functions: unknown function %q (known: %s)", n, strings.Join(functionNames(), ", "))
		}
	}
	return out, nil
}

// UsageError is an error of [Run] that comes from its arguments: a flag or
// a value not allowed, an unknown function or algorithm. Its message is
// the underlying error's.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

func (e *UsageError) Unwrap() error { return e.Err }

// Run is `tune bench suggest`: it parses args (the flags of the package
// documentation), runs the benchmark and writes the markdown report to
// stdout (and to the -o file), and notes, usage and flag errors to stderr.
// It returns [flag.ErrHelp] when args ask for help, a [*UsageError] when
// they are wrong.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return &UsageError{err}
	}
	algs, err := selectAlgorithms(o.algorithms, stderr)
	if err != nil {
		return &UsageError{err}
	}
	res, err := runAll(ctx, o, algs)
	if err != nil {
		return err
	}
	report := renderReport(o, algs, res)
	if _, err := io.WriteString(stdout, report); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if o.output != "" {
		if err := os.WriteFile(o.output, []byte(report), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	if o.raw != "" {
		if err := os.WriteFile(o.raw, rawRegrets(o, algs, res), 0o644); err != nil {
			return fmt.Errorf("write raw regrets: %w", err)
		}
	}
	return nil
}
