package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/internal/web"
)

// DefaultUIListen is tune ui's default --listen address.
const DefaultUIListen = "127.0.0.1:8686"

// uiOptions are the inputs of tune ui.
type uiOptions struct {
	listen string
	// assetsDir serves the dashboard's pages, scripts and styles from a
	// directory (internal/web/static) instead of the binary: for
	// development, hidden.
	assetsDir string
}

func newUICommand(f *factory) *cobra.Command {
	o := &uiOptions{}
	cmd := &cobra.Command{
		Use:   "ui [--listen HOST:PORT]",
		Short: "Serve a live dashboard of the store's experiments in the browser",
		Long: `ui serves a dashboard of the store: the experiments with their progress and
best trial; an experiment's spec, progress, history, parallel-coordinates,
slice and metric-curve charts, and its trials in a table you can sort,
filter and select from to compare side by side; a trial's parameters,
metric curves and output. Pages update while tune run works on the same
store in another process: the dashboard only reads, one short transaction
at a time. Everything it serves is built into the binary.

On a loopback address (the default) it needs no token. On any other address
it prints a random token and requires it on every request: open the address
it prints once (…/?token=…), which sets a cookie, or send
"Authorization: Bearer TOKEN". PORT 0 picks a free port.`,
		Example: `  tune ui
  tune ui --listen 127.0.0.1:0
  tune ui --listen 0.0.0.0:8686   # reachable from other machines, with a token`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUI(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.listen, "listen", DefaultUIListen, "HOST:PORT to serve on; a non-loopback HOST requires the printed token")
	cmd.Flags().StringVar(&o.assetsDir, "assets-dir", "", "serve the pages, scripts and styles from this directory (development)")
	_ = cmd.Flags().MarkHidden("assets-dir")
	return cmd
}

// loopback reports whether host names only this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func runUI(ctx context.Context, f *factory, o *uiOptions) error {
	host, port, err := net.SplitHostPort(o.listen)
	if err != nil {
		return usageErrorf("--listen %q: want HOST:PORT, e.g. 127.0.0.1:8686 (%v)", o.listen, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return usageErrorf("--listen %q: port %q is not a number from 0 to 65535", o.listen, port)
	}
	var assets fs.FS
	if o.assetsDir != "" {
		if fi, err := os.Stat(filepath.Join(o.assetsDir, "app.js")); err != nil || !fi.Mode().IsRegular() {
			return usageErrorf("--assets-dir %q: want the dashboard's static directory (internal/web/static), with app.js", o.assetsDir)
		}
		assets = os.DirFS(o.assetsDir)
	}
	st, err := f.openStore(true)
	if err != nil {
		return err
	}
	defer st.Close()
	token := ""
	if !loopback(host) {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("ui: make a token: %w", err)
		}
		token = hex.EncodeToString(b)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.listen)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("ui: --listen %s: %w (another tune ui? --listen 127.0.0.1:0 picks a free port)", o.listen, err)
	}
	if err != nil {
		return fmt.Errorf("ui: --listen %s: %w", o.listen, err)
	}
	srv := &http.Server{
		Handler:           web.Handler(st, web.Options{Token: token, TrialRoot: filepath.Dir(st.RealPath()), StorePath: st.RealPath(), Assets: assets}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	addr := ln.Addr().String()
	out := f.io.Out
	fmt.Fprintf(out, "tune ui: serving %s\n", escapeControl(st.Path(), false))
	if token == "" {
		fmt.Fprintf(out, "tune ui: open http://%s/ (Ctrl-C stops)\n", addr)
	} else {
		fmt.Fprintf(out, "tune ui: open http://%s/?token=%s (Ctrl-C stops)\n", addr, token)
		fmt.Fprintf(out, "tune ui: %s is not a loopback address: every request needs the token %s (once in the address, then a cookie; or Authorization: Bearer TOKEN)\n", escapeControl(host, false), token)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("ui: serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("ui: shut down: %w", err)
	}
	return nil
}
