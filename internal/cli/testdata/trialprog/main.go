// Command trialprog is the trial workload of tune's end-to-end tests: it
// computes a known objective from its flags, prints it the way training
// scripts do, and can fail, hang or record its argv on request.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func main() {
	x := flag.Float64("x", 0, "first coordinate")
	y := flag.Float64("y", 0, "second coordinate")
	epochs := flag.Int("epochs", 3, "how many loss lines to print")
	exitCode := flag.Int("exit", 0, "exit with this code after printing")
	failAbove := flag.Float64("fail-above", 1e300, "exit 3 when x is above this")
	sleep := flag.Duration("sleep", 0, "sleep this long before printing")
	waitFile := flag.String("wait-file", "", "wait until this file exists before printing")
	noMetrics := flag.Bool("no-metrics", false, "print nothing parseable")
	argvFile := flag.String("argv-file", "", "write os.Args as JSON to this file under $TUNE_TRIAL_DIR")
	label := flag.String("label", "", "an arbitrary string, echoed in argv")
	failTimes := flag.Int("fail-times", 0, "exit 4 on the first N attempts of this trial (counted in $TUNE_TRIAL_DIR/attempts), printing a metric first")
	flag.Parse()
	_ = label
	if *argvFile != "" {
		b, _ := json.Marshal(os.Args[1:])
		if err := os.WriteFile(filepath.Join(os.Getenv("TUNE_TRIAL_DIR"), *argvFile), b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if *failTimes > 0 {
		counter := filepath.Join(os.Getenv("TUNE_TRIAL_DIR"), "attempts")
		b, _ := os.ReadFile(counter)
		n := len(b) + 1
		if err := os.WriteFile(counter, append(b, '.'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if n <= *failTimes {
			// A value the retry must not keep: better than any real loss.
			fmt.Println("loss=-1000")
			fmt.Fprintf(os.Stderr, "attempt %d failing on purpose\n", n)
			os.Exit(4)
		}
	}
	time.Sleep(*sleep)
	for *waitFile != "" {
		if _, err := os.Stat(*waitFile); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if *x > *failAbove {
		fmt.Fprintln(os.Stderr, "diverged: x too large")
		os.Exit(3)
	}
	loss := (*x-1)*(*x-1) + (*y+2)*(*y+2)
	for e := 1; e <= *epochs && !*noMetrics; e++ {
		// Later epochs are better: the min strategy picks the last line.
		fmt.Printf("epoch %d: loss=%g accuracy=%g\n", e, loss+float64(*epochs-e), 1/(1+loss))
	}
	if *noMetrics {
		fmt.Println("training finished")
	}
	fmt.Fprintln(os.Stderr, "done with", os.Getenv("TUNE_TRIAL"))
	os.Exit(*exitCode)
}
