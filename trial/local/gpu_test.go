package local

import (
	"context"
	"errors"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestGPUPool(t *testing.T) {
	t.Parallel()
	p := newGPUPool([]string{"0", "1", "2"})
	a, err := p.acquire(t.Context(), 2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.acquire(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"0", "1"}, {"2"}}, [][]string{a, b}); diff != "" {
		t.Errorf("acquired (-want +got):\n%s", diff)
	}
	if ids, err := p.acquire(t.Context(), 0); ids != nil || err != nil {
		t.Errorf("acquire(0) = %v, %v", ids, err)
	}

	// Full: a waiter gives up when its context ends ...
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.acquire(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("acquire on a full pool = %v, want deadline exceeded", err)
	}

	// ... and is served once enough are released.
	got := make(chan []string)
	go func() {
		ids, err := p.acquire(t.Context(), 2)
		if err != nil {
			t.Error(err)
		}
		got <- ids
	}()
	p.release(b)
	select {
	case ids := <-got:
		t.Fatalf("acquired %v with one GPU free", ids)
	case <-time.After(50 * time.Millisecond):
	}
	p.release(a)
	select {
	case ids := <-got:
		if diff := cmp.Diff([]string{"0", "1"}, ids); diff != "" {
			t.Errorf("acquired (-want +got):\n%s", diff)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiter not woken by release")
	}
}

func TestParseGPUList(t *testing.T) {
	t.Parallel()
	got := parseGPUList([]byte("0\n1\r\n  2 \n\n"))
	if diff := cmp.Diff([]string{"0", "1", "2"}, got); diff != "" {
		t.Errorf("parseGPUList (-want +got):\n%s", diff)
	}
	if got := parseGPUList(nil); got != nil {
		t.Errorf("parseGPUList(nil) = %v", got)
	}
}

func TestDetectGPUs(t *testing.T) {
	if _, err := exec.LookPath("nvidia-smi"); err == nil {
		t.Logf("DetectGPUs() = %v", DetectGPUs(t.Context()))
	}
	t.Setenv("PATH", t.TempDir())
	if got := DetectGPUs(t.Context()); got != nil {
		t.Errorf("DetectGPUs without nvidia-smi = %v, want nil", got)
	}
}
