package grid

import (
	"errors"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/suggesttest"
)

// fuzzSpace builds a small search space from fuzz input: one parameter per
// 4 bytes of spec (at most 3): type, min, span and step, each kept small so
// that the grid has at most a few thousand points.
func fuzzSpace(spec []byte) suggest.Space {
	var space suggest.Space
	for i := 0; i+4 <= len(spec) && len(space) < 3; i += 4 {
		typ, lo, span, step := spec[i], float64(int8(spec[i+1])), float64(spec[i+2]%16), float64(spec[i+3]%8)
		p := suggest.Param{Name: "p" + strconv.Itoa(len(space))}
		switch typ % 4 {
		case 0:
			p.Type, p.Min, p.Max, p.Step = suggest.Double, lo/4, (lo+span)/4, step/8
		case 1:
			p.Type, p.Min, p.Max, p.Step = suggest.Int, lo, lo+span, step
		case 2:
			p.Type = suggest.Discrete
			for k := range int(span)%5 + 1 {
				p.Values = append(p.Values, strconv.Itoa(int(lo)+k*int(step)))
			}
		case 3:
			p.Type = suggest.Categorical
			for k := range int(span)%5 + 1 {
				p.Values = append(p.Values, string(rune('a'+(int(step)*k)%7)))
			}
		}
		space = append(space, p)
	}
	return space
}

// FuzzGrid runs the grid suggester on small arbitrary spaces, taking n
// points at a time until it is exhausted: every assignment must give each
// parameter a value the parameter allows, no point may come twice, and the
// points must number exactly the distinct points of the space.
func FuzzGrid(f *testing.F) {
	f.Add([]byte{0, 0, 4, 1}, uint8(3))
	f.Add([]byte{1, 1, 9, 0, 3, 0, 2, 0}, uint8(5))
	f.Add([]byte{2, 0, 4, 0, 3, 0, 4, 0}, uint8(1))
	f.Add([]byte{1, 0xf0, 15, 7, 0, 0x80, 15, 3, 2, 5, 3, 2}, uint8(100))
	f.Add([]byte{0, 0, 0, 0}, uint8(0))
	f.Fuzz(func(t *testing.T, spec []byte, n uint8) {
		space := fuzzSpace(spec)
		size, err := Size(space)
		if err != nil {
			return // an invalid space; Suggest must refuse it too
		}
		g, err := New(nil)
		if err != nil {
			t.Fatal(err)
		}
		req := suggest.Request{Space: space, N: int(n%16) + 1}
		seen := map[string]bool{}
		for {
			as, err := g.Suggest(t.Context(), req)
			if errors.Is(err, suggest.ErrExhausted) {
				break
			}
			if err != nil {
				t.Fatalf("Suggest: %v", err)
			}
			if len(as) == 0 || len(as) > req.N {
				t.Fatalf("Suggest returned %d points for N=%d", len(as), req.N)
			}
			for _, a := range as {
				if err := suggesttest.CheckAssignment(space, a); err != nil {
					t.Fatal(err)
				}
				if seen[a.Key()] {
					t.Fatalf("point %v suggested twice", a)
				}
				seen[a.Key()] = true
			}
			req.History = append(req.History, suggesttest.Pending(as)...)
			if len(seen) > size {
				t.Fatalf("%d points suggested from a grid of %d", len(seen), size)
			}
		}
		if len(seen) != size {
			t.Fatalf("grid of Size %d gave %d points", size, len(seen))
		}
	})
}

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestBillionPointGrid(t *testing.T) {
	space := suggest.Space{
		{Name: "a", Type: suggest.Int, Min: 1, Max: 1000},
		{Name: "b", Type: suggest.Int, Min: 1, Max: 1000},
		{Name: "c", Type: suggest.Int, Min: 1, Max: 1000},
	}
	size, err := Size(space)
	if err != nil || size != 1_000_000_000 {
		t.Fatalf("Size = %d, %v; want 10^9", size, err)
	}
	g := newGrid(t)
	req := suggest.Request{Space: space, N: 10}
	var as []suggest.Assignment
	start := time.Now()
	alloc := allocated(func() { as, err = g.Suggest(t.Context(), req) })
	if err != nil {
		t.Fatal(err)
	}
	if alloc > 1<<20 {
		t.Errorf("first 10 of 10^9 points took %d bytes (in %v): the grid is materialised", alloc, time.Since(start))
	}
	if len(as) != 10 || as[0]["a"] != "1" || as[9]["c"] != "10" {
		t.Errorf("first points = %v", as)
	}
	// The next batch skips the history, still without materialising.
	req.History = suggesttest.Pending(as)
	alloc = allocated(func() { as, err = g.Suggest(t.Context(), req) })
	if err != nil || len(as) != 10 || as[0]["c"] != "11" || alloc > 1<<20 {
		t.Errorf("second batch = %v, %v, %d bytes", as, err, alloc)
	}
}

func TestGridRefusesOverflowingSpace(t *testing.T) {
	// 1000^7 = 10^21 points overflow int64.
	var space suggest.Space
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		space = append(space, suggest.Param{Name: name, Type: suggest.Int, Min: 1, Max: 1000})
	}
	_, err := newGrid(t).Suggest(t.Context(), suggest.Request{Space: space, N: 1})
	if err == nil || err.Error() != "grid: the grid has more than 9223372036854775807 points" {
		t.Errorf("Suggest = %v, want a refusal", err)
	}
}

func TestGridRepeatedListValuesDoNotHang(t *testing.T) {
	// Six lists of one value written 1,000 times: one real point, which
	// the history already holds. Counting the repeats would mean walking
	// 10^18 points before reporting exhaustion.
	var space suggest.Space
	one := suggest.Assignment{}
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		values := make([]string, 1000)
		for i := range values {
			values[i] = "x"
		}
		space = append(space, suggest.Param{Name: name, Type: suggest.Categorical, Values: values})
		one[name] = "x"
	}
	if size, err := Size(space); err != nil || size != 1 {
		t.Errorf("Size = %d, %v; want 1", size, err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := newGrid(t).Suggest(t.Context(), suggest.Request{Space: space, N: 1, History: suggesttest.Pending([]suggest.Assignment{one})})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, suggest.ErrExhausted) {
			t.Errorf("Suggest = %v, want ErrExhausted", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Suggest did not return within 5s")
	}
}
