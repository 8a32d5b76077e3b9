// Command storescale measures tune's read commands on a big generated
// store, each as a whole process: wall time and peak resident memory.
//
//	go build -o /tmp/tune-ss ./cmd/tune
//	go run ./internal/cmd/storebench -store /tmp/ss.db -tune /tmp/tune-ss
//
// It writes the store first when the file does not exist (internal/storegen,
// sized by -trials, -logs and -experiments: the size by default;
// CI uses -trials 1000 -experiments 10) and prints its size per trial.
// With -tune it runs tune best, tune get trials --limit 20 (best first) and
// tune get experiments -runs times each and prints one line per run in
// Go's benchmark format, so that benchstat can compare two binaries:
//
//	BenchmarkProcess/best 1 23456789 ns/op 34567890 maxrss-B
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tune-hpo/tune/internal/storegen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "storescale:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	var c storegen.Config
	path := flag.String("store", "", "the store file; generated when missing (required)")
	flag.IntVar(&c.Trials, "trials", 100000, "trials of experiment "+storegen.Big)
	flag.IntVar(&c.Logs, "logs", 50, "observation log entries per trial")
	flag.IntVar(&c.Experiments, "experiments", 1000, "small experiments (5 trials each)")
	tune := flag.String("tune", "", "the tune binary to measure (none: only generate)")
	runs := flag.Int("runs", 5, "runs of each command")
	flag.Parse()
	if *path == "" || flag.NArg() > 0 {
		return errors.New("usage: storescale -store FILE [-trials N -logs N -experiments N] [-tune BINARY -runs N]")
	}
	if _, err := os.Stat(*path); errors.Is(err, fs.ErrNotExist) {
		start := time.Now()
		if err := storegen.Generate(ctx, *path, c); err != nil {
			return err
		}
		fmt.Printf("# generated %s in %v: %+v\n", *path, time.Since(start).Round(time.Millisecond), c)
	} else if err != nil {
		return err
	} else {
		fmt.Printf("# using %s as it is (the size flags are ignored)\n", *path)
	}
	fi, err := os.Stat(*path)
	if err != nil {
		return err
	}
	trials := c.Trials + 5*c.Experiments
	fmt.Printf("# file %d bytes; %d bytes per trial of %d (each with its log)\n", fi.Size(), fi.Size()/int64(max(trials, 1)), trials)
	if *tune == "" {
		return nil
	}
	cmds := []struct{ name, args string }{
		{"best", "best " + storegen.Big},
		{"get-trials-limit-20", "get trials " + storegen.Big + " --limit 20"},
		{"get-experiments", "get experiments"},
	}
	for _, cmd := range cmds {
		for range *runs {
			args := append([]string{"--store", *path}, strings.Fields(cmd.args)...)
			c := exec.CommandContext(ctx, *tune, args...)
			var out, errOut strings.Builder
			c.Stdout, c.Stderr = &out, &errOut
			start := time.Now()
			err := c.Run()
			wall := time.Since(start)
			if err != nil {
				return fmt.Errorf("tune %s: %w: %s", strings.Join(args, " "), err, errOut.String())
			}
			var rss int64
			if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
				rss = ru.Maxrss * 1024 // KiB on Linux
			}
			fmt.Printf("BenchmarkProcess/%s\t1\t%d ns/op\t%d maxrss-B\t%d out-lines\n", cmd.name, wall.Nanoseconds(), rss, strings.Count(out.String(), "\n"))
		}
	}
	return nil
}
