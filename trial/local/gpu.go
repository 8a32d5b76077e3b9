package local

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"strings"
	"sync"
)

// gpuPool hands out GPU ids to trials, each id to one trial at a time.
type gpuPool struct {
	mu    sync.Mutex
	ids   []string      // all ids, in the configured order
	busy  []bool        // busy[i] reports whether ids[i] is handed out
	nfree int           // how many ids are free
	freed chan struct{} // closed, and replaced, whenever ids are released
}

func newGPUPool(ids []string) *gpuPool {
	return &gpuPool{
		ids:   ids,
		busy:  make([]bool, len(ids)),
		nfree: len(ids),
		freed: make(chan struct{}),
	}
}

// acquire takes k free ids, lowest first, waiting until enough are free or
// ctx is done. k must not exceed the pool size. Waiters are not served in
// order: a trial asking for many GPUs may wait behind later trials asking
// for fewer.
func (p *gpuPool) acquire(ctx context.Context, k int) ([]string, error) {
	if k == 0 {
		return nil, nil
	}
	for {
		p.mu.Lock()
		if p.nfree >= k {
			got := make([]string, 0, k)
			for i := range p.ids {
				if len(got) == k {
					break
				}
				if !p.busy[i] {
					p.busy[i] = true
					got = append(got, p.ids[i])
				}
			}
			p.nfree -= k
			p.mu.Unlock()
			return got, nil
		}
		freed := p.freed
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-freed:
		}
	}
}

// release gives back ids taken with acquire.
func (p *gpuPool) release(ids []string) {
	if len(ids) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		for i := range p.ids {
			if p.ids[i] == id && p.busy[i] {
				p.busy[i] = false
				p.nfree++
				break
			}
		}
	}
	close(p.freed)
	p.freed = make(chan struct{})
}

// DetectGPUs returns the indices of this machine's NVIDIA GPUs as reported
// by `nvidia-smi --query-gpu=index --format=csv,noheader`, for
// [Options.GPUs]. It returns nil when nvidia-smi is not on the PATH, fails,
// or lists no GPU.
func DetectGPUs(ctx context.Context) []string {
	path, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, path, "--query-gpu=index", "--format=csv,noheader").Output()
	if err != nil {
		return nil
	}
	return parseGPUList(out)
}

// parseGPUList reads one GPU id a line.
func parseGPUList(out []byte) []string {
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}
