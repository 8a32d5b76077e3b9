// Package browser starts headless Chromium for the dashboard's end-to-end
// tests, through chromedp.
package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// RequireEnv names the environment variable that, set to 1, makes [New]
// fail instead of skip when Chromium cannot run (CI sets it).
const RequireEnv = "TUNE_REQUIRE_BROWSER"

// Browser is one headless Chromium tab.
type Browser struct {
	// Ctx is the chromedp context of the tab.
	Ctx context.Context
	t   testing.TB

	mu     sync.Mutex
	errors []string
}

// New starts a headless Chromium (Debian's chromium, or the path in
// $CHROMIUM) with a fresh profile and a width×height window, and returns
// its tab; it is closed when t ends. When no Chromium can run, New skips t
// with the reason, or fails it when $TUNE_REQUIRE_BROWSER is 1. Uncaught
// JavaScript exceptions and console errors are collected: [Browser.Check]
// fails t on them.
func New(t testing.TB, width, height int) *Browser {
	t.Helper()
	exe := os.Getenv("CHROMIUM")
	if exe == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				exe = p
				break
			}
		}
	}
	if exe == "" {
		unavailable(t, "no chromium on PATH (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // tests may run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		// Chromium's singleton socket directory goes to TMPDIR and
		// outlives a killed browser: keep it in the test's own.
		chromedp.Env("TMPDIR="+t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &Browser{Ctx: ctx, t: t}
	if err := chromedp.Do(ctx); err != nil {
		unavailable(t, fmt.Sprintf("%s does not start: %v", exe, err))
	}
	err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = "uncaught exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			msg = "console.error: " + strings.Join(parts, " ")
		default:
			return
		}
		b.mu.Lock()
		b.errors = append(b.errors, msg)
		b.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("BROWSER TEST CANNOT RUN: %s (and %s=1)", why, RequireEnv)
	}
	t.Skipf("SKIPPED: BROWSER TEST CANNOT RUN: %s; set %s=1 to make this a failure", why, RequireEnv)
}

// Check fails the test with every JavaScript error seen so far.
func (b *Browser) Check() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		b.t.Errorf("browser: %s", e)
	}
	b.errors = nil
}

// Do runs actions, failing the test on error.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		b.Check()
		b.t.Fatal(err)
	}
}

// Eval returns the value of the JavaScript expression expr, failing the
// test on error.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.Check()
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Wait waits until the JavaScript expression cond is truthy, for at most
// timeout, failing the test with what it waited for otherwise.
func (b *Browser) Wait(cond string, timeout time.Duration) {
	b.t.Helper()
	_, err := chromedp.Run(b.Ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		b.Check()
		b.t.Fatalf("waiting %v for %s: %v", timeout, cond, err)
	}
}

// Screenshot returns a PNG of the whole page.
func (b *Browser) Screenshot() []byte {
	b.t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	return png
}

// CPUTime returns the processor time (user and system) the browser's
// processes have used so far, read from /proc on Linux; false elsewhere.
// Unlike wall time, it hardly depends on what else the machine runs.
func (b *Browser) CPUTime() (time.Duration, bool) {
	c := chromedp.FromContext(b.Ctx)
	if c == nil || c.Browser == nil || c.Browser.Process() == nil {
		return 0, false
	}
	root := c.Browser.Process().Pid
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	parent := map[int]int{}
	ticks := map[int]int64{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command (which may hold spaces) in parentheses.
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		parent[pid], ticks[pid] = ppid, utime+stime
	}
	var total int64
	for pid, t := range ticks {
		for p := pid; p > 1; p = parent[p] {
			if p == root {
				total += t
				break
			}
		}
	}
	const hz = 100 // USER_HZ on Linux
	return time.Duration(total) * time.Second / hz, true
}
