// Command enginebench measures tune as a whole process, against the floor of what
// it does: starting trials' processes (xargs -P running the same command
// lines) and starting a Go binary. It prints one benchstat line per case:
//
//	go run ./internal/cmd/enginebench overhead -trials 2000,20000 -parallel 1,8,32
//	go run ./internal/cmd/enginebench startup
//
// overhead runs a random-search experiment whose trials each run one
// command (true, or echo printing the objective), through tune run and
// through xargs -P with the same command lines, and reports tune's wall
// time, the xargs wall time measured in the same run, their ratio, the
// milliseconds tune adds per trial, both commands' CPU time (the trials'
// processes included) and their ratio, and tune's resident memory sampled
// at the start, middle and end of the run. startup times tune's commands
// on a small store from exec to exit.
//
// The figures and the machine they were taken on are in
// docs/performance.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: enginebench overhead|startup [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "overhead":
		err = overheadMain(os.Args[2:], os.Stdout)
	case "startup":
		err = startupMain(os.Args[2:], os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q: want overhead or startup", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "enginebench:", err)
		os.Exit(1)
	}
}

// overheadConfig is one overhead run's settings.
type overheadConfig struct {
	tune     string // the tune binary
	trials   []int
	parallel []int
	commands []string // "true", "echo"
	dir      string   // scratch directory
}

func overheadMain(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("overhead", flag.ContinueOnError)
	tune := fs.String("tune", "", "tune binary (default: built from this module into a temporary directory)")
	trials := fs.String("trials", "2000,20000", "comma-separated trial counts")
	parallel := fs.String("parallel", "1,8,32", "comma-separated parallelTrialCount values")
	commands := fs.String("commands", "true,echo", "trial commands: true (prints nothing), echo (prints value=X)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c := overheadConfig{tune: *tune}
	var err error
	if c.trials, err = ints("-trials", *trials); err != nil {
		return err
	}
	if c.parallel, err = ints("-parallel", *parallel); err != nil {
		return err
	}
	c.commands = strings.Split(*commands, ",")
	for _, cmd := range c.commands {
		if cmd != "true" && cmd != "echo" {
			return fmt.Errorf("-commands: %q: want true or echo", cmd)
		}
	}
	dir, err := os.MkdirTemp("", "tune-perf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c.dir = dir
	if c.tune == "" {
		if c.tune, err = buildTune(dir); err != nil {
			return err
		}
	}
	return overhead(context.Background(), c, out)
}

// overhead runs every case of c and writes a benchstat line for each.
func overhead(ctx context.Context, c overheadConfig, out io.Writer) error {
	for _, cmd := range c.commands {
		for _, n := range c.trials {
			for _, p := range c.parallel {
				r, err := overheadCase(ctx, c, cmd, n, p)
				if err != nil {
					return fmt.Errorf("cmd=%s trials=%d parallel=%d: %w", cmd, n, p, err)
				}
				fmt.Fprintf(out, "BenchmarkOverhead/cmd=%s/trials=%d/parallel=%d 1 %d ns/op %.3f tune-s %.3f xargs-s %.2f ratio %.3f ms/trial %.3f tune-cpu-s %.3f xargs-cpu-s %.2f cpu-ratio %.1f rss-start-MiB %.1f rss-mid-MiB %.1f rss-end-MiB %.1f rss-peak-MiB\n",
					cmd, n, p, r.tune.Nanoseconds(), r.tune.Seconds(), r.xargs.Seconds(), r.tune.Seconds()/r.xargs.Seconds(),
					float64((r.tune-r.xargs).Microseconds())/1000/float64(n),
					r.tuneCPU.Seconds(), r.xargsCPU.Seconds(), r.tuneCPU.Seconds()/r.xargsCPU.Seconds(), mib(r.rss.start), mib(r.rss.mid), mib(r.rss.end), mib(r.rss.peak))
			}
		}
	}
	return nil
}

// caseResult is one overhead case's measurements.
type caseResult struct {
	tune, xargs time.Duration
	// tuneCPU and xargsCPU are user plus system time, the trials' processes
	// included.
	tuneCPU, xargsCPU time.Duration
	rss               rssSamples
}

func overheadCase(ctx context.Context, c overheadConfig, cmd string, n, parallel int) (caseResult, error) {
	var r caseResult
	dir := filepath.Join(c.dir, fmt.Sprintf("%s-%d-%d", cmd, n, parallel))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return r, err
	}
	exp := filepath.Join(dir, "experiment.yaml")
	if err := os.WriteFile(exp, []byte(experimentYAML(cmd, n, parallel)), 0o600); err != nil {
		return r, err
	}
	// xargs first, with the command lines tune's trials run.
	lines := filepath.Join(dir, "args")
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "value=%.6f\n", float64(i)/float64(n))
	}
	if err := os.WriteFile(lines, []byte(b.String()), 0o600); err != nil {
		return r, err
	}
	prog := commandPath(cmd)
	xargs := exec.CommandContext(ctx, "xargs", "-P", strconv.Itoa(parallel), "-n", "1", prog)
	in, err := os.Open(lines)
	if err != nil {
		return r, err
	}
	defer in.Close()
	xargs.Stdin = in
	start := time.Now()
	if out, err := xargs.CombinedOutput(); err != nil {
		return r, fmt.Errorf("xargs: %w\n%s", err, tail(out))
	}
	r.xargs = time.Since(start)
	r.xargsCPU = xargs.ProcessState.UserTime() + xargs.ProcessState.SystemTime()

	run := exec.CommandContext(ctx, c.tune, "--store", filepath.Join(dir, "tune.db"), "run", exp)
	run.Dir = dir
	run.Env = append(os.Environ(), "NO_COLOR=1")
	var stderr bytes.Buffer
	run.Stdout, run.Stderr = io.Discard, &stderr
	start = time.Now()
	if err := run.Start(); err != nil {
		return r, err
	}
	sampler := sampleRSS(run.Process.Pid)
	err = run.Wait()
	r.tune = time.Since(start)
	r.rss = sampler()
	r.tuneCPU = run.ProcessState.UserTime() + run.ProcessState.SystemTime()
	if err != nil {
		return r, fmt.Errorf("tune run: %w\n%s", err, tail(stderr.Bytes()))
	}
	return r, nil
}

// experimentYAML is the experiment of an overhead case: random search over
// one double, each trial running cmd.
func experimentYAML(cmd string, n, parallel int) string {
	// The same command lines as xargs runs: true ignores its argument.
	command := fmt.Sprintf(`[%q, "value=${trialParameters.x}"]`, commandPath(cmd))
	return fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: overhead
spec:
  objective:
    type: minimize
    objectiveMetricName: value
  algorithm:
    algorithmName: random
  parallelTrialCount: %d
  maxTrialCount: %d
  parameters:
    - name: x
      parameterType: double
      feasibleSpace: {min: "0", max: "1"}
  trialTemplate:
    primaryContainerName: training
    trialParameters:
      - name: x
        reference: x
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: training
                image: busybox
                command: %s
`, parallel, n, command)
}

// commandPath is the absolute path of the program cmd names.
func commandPath(cmd string) string {
	if p, err := exec.LookPath(cmd); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	return "/bin/" + cmd
}

// rssSamples is a process's resident set size (bytes) over its life.
type rssSamples struct{ start, mid, end, peak int64 }

// sampleRSS polls the resident set size of process pid until the returned
// function is called, which returns the samples taken a second after the
// start (or the first), at the middle of the run and the last.
func sampleRSS(pid int) func() rssSamples {
	type sample struct {
		at  time.Duration
		rss int64
	}
	var (
		mu      sync.Mutex
		samples []sample
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	begin := time.Now()
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss, ok := readRSS(pid); ok {
				mu.Lock()
				samples = append(samples, sample{time.Since(begin), rss})
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() rssSamples {
		close(stop)
		<-done
		var r rssSamples
		if len(samples) == 0 {
			return r
		}
		last := samples[len(samples)-1]
		r.end = last.rss
		r.start = samples[0].rss
		for _, s := range samples {
			if s.at >= time.Second {
				r.start = s.rss
				break
			}
		}
		i, _ := slices.BinarySearchFunc(samples, last.at/2, func(s sample, at time.Duration) int { return int(s.at - at) })
		r.mid = samples[min(i, len(samples)-1)].rss
		for _, s := range samples {
			r.peak = max(r.peak, s.rss)
		}
		return r
	}
}

// readRSS returns the VmRSS of process pid, false when it has none (it
// ended) or the system does not tell.
func readRSS(pid int) (int64, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// buildTune builds this module's tune binary into dir.
func buildTune(dir string) (string, error) {
	bin := filepath.Join(dir, "tune")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/tune-hpo/tune/cmd/tune")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

// ints parses a comma-separated list of positive integers.
func ints(flagName, s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a positive integer", flagName, f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New(flagName + ": empty")
	}
	return out, nil
}

// tail returns the last lines of a command's output, for an error.
func tail(b []byte) string {
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

func startupMain(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("startup", flag.ContinueOnError)
	tune := fs.String("tune", "", "tune binary (default: built from this module into a temporary directory)")
	runs := fs.Int("runs", 20, "runs of each command")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runs < 1 {
		return fmt.Errorf("-runs %d: want at least 1", *runs)
	}
	dir, err := os.MkdirTemp("", "tune-perf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := *tune
	if bin == "" {
		if bin, err = buildTune(dir); err != nil {
			return err
		}
	}
	return startup(context.Background(), bin, dir, *runs, out)
}

// startup times tune's read commands on a small store (20 trials) from
// exec to exit, and reports what the Go runtime's package initialisation
// costs of it (GODEBUG=inittrace=1).
func startup(ctx context.Context, bin, dir string, runs int, out io.Writer) error {
	db := filepath.Join(dir, "startup.db")
	exp := filepath.Join(dir, "startup.yaml")
	if err := os.WriteFile(exp, []byte(experimentYAML("echo", 20, 4)), 0o600); err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, bin, "--store", db, "run", exp).CombinedOutput(); err != nil {
		return fmt.Errorf("tune run: %w\n%s", err, tail(out))
	}
	info, err := os.Stat(bin)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "# binary %s: %.1f MiB\n", bin, mib(info.Size()))
	cases := []struct {
		name string
		args []string
	}{
		{"version", []string{"version"}},
		{"best", []string{"--store", db, "best", "overhead"}},
		{"get-trials", []string{"--store", db, "get", "trials", "overhead"}},
		{"get-experiments", []string{"--store", db, "get", "experiments"}},
	}
	for _, c := range cases {
		var total, fastest time.Duration
		for i := range runs {
			cmd := exec.CommandContext(ctx, bin, c.args...)
			cmd.Env = append(os.Environ(), "NO_COLOR=1")
			start := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("tune %s: %w\n%s", strings.Join(c.args, " "), err, tail(out))
			}
			d := time.Since(start)
			total += d
			if i == 0 || d < fastest {
				fastest = d
			}
		}
		mean := total / time.Duration(runs)
		fmt.Fprintf(out, "BenchmarkStartup/cmd=%s %d %d ns/op %.2f min-ms\n", c.name, runs, mean.Nanoseconds(), float64(fastest.Microseconds())/1000)
	}
	// What package initialisation costs, by package, from the runtime's
	// own trace of one run of tune version.
	cmd := exec.CommandContext(ctx, bin, "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var trace bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &trace
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("tune version: %w", err)
	}
	inits := parseInitTrace(trace.String())
	var sum float64
	for _, in := range inits {
		sum += in.ms
	}
	slices.SortFunc(inits, func(a, b initCost) int { return int((b.ms - a.ms) * 1e6) })
	fmt.Fprintf(out, "# package init: %.2f ms over %d packages; the largest:\n", sum, len(inits))
	for _, in := range inits[:min(8, len(inits))] {
		fmt.Fprintf(out, "#   %-60s %6.2f ms %8.0f KiB allocated\n", in.pkg, in.ms, in.kib)
	}
	return nil
}

// initCost is one package's initialisation as GODEBUG=inittrace=1 reports it.
type initCost struct {
	pkg     string
	ms, kib float64
}

// parseInitTrace parses the runtime's "init PKG @T ms, C ms clock, B bytes,
// A allocs" lines.
func parseInitTrace(s string) []initCost {
	var out []initCost
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != "init" || f[5] != "ms" || f[6] != "clock," {
			continue
		}
		ms, err1 := strconv.ParseFloat(f[4], 64)
		b, err2 := strconv.ParseFloat(f[7], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, initCost{pkg: f[1], ms: ms, kib: b / 1024})
	}
	return out
}
