package metrics

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// defaultMatches returns the name and value bounds of every match of
// DefaultFilter in line, found by nextDefault.
func defaultMatches(line []byte) [][4]int {
	var got [][4]int
	for m, rest := nextDefault(line, 0); m[0] >= 0; m, rest = nextDefault(line, rest) {
		got = append(got, m)
	}
	return got
}

// regexpMatches returns what defaultMatches should, found by regexp.
func regexpMatches(re *regexp.Regexp, line []byte) [][4]int {
	var want [][4]int
	for _, m := range re.FindAllSubmatchIndex(line, -1) {
		want = append(want, [4]int{m[2], m[3], m[4], m[5]})
	}
	return want
}

var defaultSeeds = []string{
	"epoch 1: loss=0.23 accuracy=0.91",
	"a=b=1 x = - 3 y=+ z=.5 w=5. v=1e u=1e+ t=1E-7 s=-.5e3",
	"a=12xy=3 loss=1.5.3=2 -5=3 |=| a|b-c=4",
	"\tname\f=\r7 name\v=8 näme=9 \xff=1 k=\xff",
	"==== =1 a= a =",
	"",
}

func TestNextDefaultMatchesRegexp(t *testing.T) {
	re := regexp.MustCompile(DefaultFilter)
	for _, s := range defaultSeeds {
		line := []byte(s)
		if diff := cmp.Diff(regexpMatches(re, line), defaultMatches(line)); diff != "" {
			t.Errorf("%q: matches (-regexp +nextDefault):\n%s", s, diff)
		}
	}
}

func FuzzNextDefault(f *testing.F) {
	for _, s := range defaultSeeds {
		f.Add([]byte(s))
	}
	re := regexp.MustCompile(DefaultFilter)
	f.Fuzz(func(t *testing.T, line []byte) {
		if diff := cmp.Diff(regexpMatches(re, line), defaultMatches(line)); diff != "" {
			t.Errorf("%q: matches (-regexp +nextDefault):\n%s", line, diff)
		}
	})
}
