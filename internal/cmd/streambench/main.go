// Command streambench streams a generated training log through tune's
// StdOut metrics path (LineWriter and TextParser with Katib's default
// format) in this process and reports the throughput and how much the
// process's peak resident memory grew:
//
//	go run ./internal/cmd/streambench -size 2GiB
//
// The log (metrics.SyntheticLog: one line in a hundred reports metrics) is
// generated as it is consumed, so its size costs no memory; what the RSS
// growth shows is the parser's own. The reported throughput includes the
// cost of generating the log; -gen also times the generator alone (writing
// to io.Discard), so that the parser's share can be told apart.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/tune-hpo/tune/metrics"
)

func main() {
	sizeFlag := flag.String("size", "2GiB", "bytes of log to stream (suffixes KiB, MiB, GiB)")
	gen := flag.Bool("gen", false, "also time generating the log alone, into io.Discard")
	flag.Parse()
	size, err := parseSize(*sizeFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "streambench:", err)
		os.Exit(2)
	}
	p, err := metrics.NewTextParser(nil, []string{"loss", "accuracy", "val-loss"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "streambench:", err)
		os.Exit(1)
	}
	values := 0
	now := time.Now()
	lw := metrics.NewLineWriter(0, func(line []byte) {
		logs, _ := p.ParseLine(line, now)
		values += len(logs)
	})
	if *gen {
		start := time.Now()
		if err := metrics.SyntheticLog(io.Discard, size); err != nil {
			fmt.Fprintln(os.Stderr, "streambench:", err)
			os.Exit(1)
		}
		elapsed := time.Since(start)
		fmt.Printf("generated %d MiB alone in %.2f s: %.0f MB/s\n", size>>20, elapsed.Seconds(), float64(size)/1e6/elapsed.Seconds())
	}
	runtime.GC()
	hwmBefore, rssBefore := status("VmHWM"), status("VmRSS")
	start := time.Now()
	if err := metrics.SyntheticLog(lw, size); err != nil {
		fmt.Fprintln(os.Stderr, "streambench:", err)
		os.Exit(1)
	}
	lw.Close()
	elapsed := time.Since(start)
	hwmAfter, rssAfter := status("VmHWM"), status("VmRSS")
	fmt.Printf("streamed %d MiB in %.2f s: %.0f MB/s, %d metric values\n", size>>20, elapsed.Seconds(), float64(size)/1e6/elapsed.Seconds(), values)
	fmt.Printf("peak RSS (VmHWM) %d KiB before, %d KiB after: grew %d KiB\n", hwmBefore, hwmAfter, hwmAfter-hwmBefore)
	fmt.Printf("RSS (VmRSS) %d KiB before, %d KiB after: grew %d KiB\n", rssBefore, rssAfter, rssAfter-rssBefore)
}

// parseSize reads "2GiB", "512MiB", "100KiB" or a plain byte count.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if rest, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = rest, m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("-size %q: want a positive byte count with an optional KiB, MiB or GiB suffix", s)
	}
	return n * mult, nil
}

// status returns a kB field of /proc/self/status (0 where there is none).
func status(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
