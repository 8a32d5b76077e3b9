package suggest

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// SettingRandomState is Katib's name of the setting that seeds an algorithm.
const SettingRandomState = "random_state"

// SettingError is a problem with one setting, named as it was given.
type SettingError struct {
	Name string // the setting's name
	Err  error  // the problem, naming the algorithm and the setting
}

// Error returns Err's message.
func (e *SettingError) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *SettingError) Unwrap() error { return e.Err }

// Settings reads an algorithm's settings (Katib's algorithmSettings) and
// collects every problem with them. Each getter marks its name as allowed
// and reports a malformed value; [Settings.Done] reports the names no
// getter asked for. Messages start with the algorithm's name.
type Settings struct {
	algorithm   string
	given       map[string]string
	allowed     []string
	asked       map[string]bool
	aliases     [][2]string // alias, name
	settingErrs []keyedError
	otherErrs   []error
}

// keyedError is a problem found while reading the setting given as key.
type keyedError struct {
	key     string // the given name the problem sorts by
	setting bool   // whether the problem is that setting's ([SettingError])
	err     error
}

// ReadSettings starts reading given, the settings of algorithm.
func ReadSettings(algorithm string, given map[string]string) *Settings {
	return &Settings{algorithm: algorithm, given: given, asked: map[string]bool{}}
}

// Alias accepts alias as another name of the setting name; it must be
// called before name is read. Giving both is an error.
func (s *Settings) Alias(alias, name string) {
	s.aliases = append(s.aliases, [2]string{alias, name})
}

// Ignore accepts names, with any value, without listing them as allowed.
func (s *Settings) Ignore(names ...string) {
	for _, n := range names {
		s.asked[n] = true
	}
}

// Unused accepts name, with any value, and lists it as allowed with a note
// that the algorithm ignores it (a setting Katib's service accepts and tune
// has no use for).
func (s *Settings) Unused(name string) {
	s.asked[name] = true
	s.allowed = append(s.allowed, name+", which "+s.algorithm+" ignores")
}

// lookup marks name (and its aliases) allowed and returns the name it was
// given as and its value.
func (s *Settings) lookup(name string) (given, value string, ok bool) {
	s.allowed = append(s.allowed, name)
	s.asked[name] = true
	var found []string
	if _, ok := s.given[name]; ok {
		found = append(found, name)
	}
	for _, a := range s.aliases {
		if a[1] != name {
			continue
		}
		s.asked[a[0]] = true
		if _, ok := s.given[a[0]]; ok {
			found = append(found, a[0])
		}
	}
	if len(found) == 0 {
		return "", "", false
	}
	slices.Sort(found)
	for _, later := range found[1:] {
		s.settingErrs = append(s.settingErrs, keyedError{key: later, err: fmt.Errorf("%s: setting %s given twice, as %s and %s", s.algorithm, name, found[0], later)})
	}
	return found[0], s.given[found[0]], true
}

// String returns the named setting's value as given, any value accepted.
func (s *Settings) String(name string) (string, bool) {
	_, v, ok := s.lookup(name)
	return v, ok
}

// Choice returns the named setting's value, for check to interpret: check
// returns false for a value it rejects, which is reported as not being
// want.
func (s *Settings) Choice(name, want string, check func(v string) bool) (string, bool) {
	g, v, ok := s.lookup(name)
	if !ok {
		return "", false
	}
	if !check(v) {
		s.invalid(g, v, want, nil)
		return "", false
	}
	return v, true
}

// Int returns the named setting as an integer ≥ lo.
func (s *Settings) Int(name string, lo int) (int, bool) {
	g, v, ok := s.lookup(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo {
		want := fmt.Sprintf("an integer ≥ %d", lo)
		switch lo {
		case 0:
			want = "a non-negative integer"
		case 1:
			want = "a positive integer"
		}
		s.invalid(g, v, want, err)
		return 0, false
	}
	return n, true
}

// FloatAtLeast returns the named setting as a finite number ≥ lo.
func (s *Settings) FloatAtLeast(name string, lo float64) (float64, bool) {
	want := fmt.Sprintf("a number ≥ %v", lo)
	if lo == 0 {
		want = "a non-negative number"
	}
	return s.float(name, want, func(f float64) bool { return f >= lo })
}

// FloatAbove returns the named setting as a finite number > lo.
func (s *Settings) FloatAbove(name string, lo float64) (float64, bool) {
	want := fmt.Sprintf("a number > %v", lo)
	if lo == 0 {
		want = "a positive number"
	}
	return s.float(name, want, func(f float64) bool { return f > lo })
}

// FloatBetween returns the named setting as a number strictly between lo
// and hi.
func (s *Settings) FloatBetween(name string, lo, hi float64) (float64, bool) {
	return s.float(name, fmt.Sprintf("a number between %v and %v, exclusive", lo, hi), func(f float64) bool { return f > lo && f < hi })
}

func (s *Settings) float(name, want string, in func(float64) bool) (float64, bool) {
	g, v, ok := s.lookup(name)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || !in(f) {
		s.invalid(g, v, want, err)
		return 0, false
	}
	return f, true
}

// Seed returns the random_state setting, a non-negative integer.
func (s *Settings) Seed() (uint64, bool) {
	g, v, ok := s.lookup(SettingRandomState)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		s.invalid(g, v, "a non-negative integer", err)
		return 0, false
	}
	return n, true
}

// invalid reports the value v of the setting given as name, which is not
// want; err is the parse error, if any.
func (s *Settings) invalid(name, v, want string, err error) {
	e := fmt.Errorf("%s: setting %s=%q: want %s", s.algorithm, name, v, want)
	if err != nil {
		e = fmt.Errorf("%s: setting %s=%q: want %s: %w", s.algorithm, name, v, want, err)
	}
	s.settingErrs = append(s.settingErrs, keyedError{key: name, setting: true, err: e})
}

// Errorf reports a problem that is not one setting's, such as a missing
// setting or two that disagree; the message is prefixed with the
// algorithm's name.
func (s *Settings) Errorf(format string, args ...any) {
	s.otherErrs = append(s.otherErrs, fmt.Errorf("%s: %s", s.algorithm, fmt.Sprintf(format, args...)))
}

// Require reports the named setting when it is missing or empty: why says
// what it is for. The problem is the setting's when it is given empty.
func (s *Settings) Require(name, why string) {
	v, given := s.given[name]
	if v != "" {
		return
	}
	err := fmt.Errorf("%s: setting %q is required: %s", s.algorithm, name, why)
	if given {
		err = &SettingError{Name: name, Err: err}
	}
	s.otherErrs = append(s.otherErrs, err)
}

// Done reports every given name that no getter asked for, and returns
// every problem found: those of the settings in the order of their names,
// each a [*SettingError] when it is that one setting's, then the others in
// the order reported. It returns nil when there is none.
func (s *Settings) Done() error {
	allowed := slices.Clone(s.allowed)
	for _, a := range s.aliases {
		allowed = append(allowed, a[0])
	}
	for _, name := range slices.Sorted(maps.Keys(s.given)) {
		if !s.asked[name] {
			s.settingErrs = append(s.settingErrs, keyedError{key: name, setting: true,
				err: fmt.Errorf("%s: unknown setting %q (allowed: %s)", s.algorithm, name, strings.Join(allowed, ", "))})
		}
	}
	slices.SortStableFunc(s.settingErrs, func(a, b keyedError) int { return strings.Compare(a.key, b.key) })
	var errs []error
	for _, k := range s.settingErrs {
		if k.setting {
			errs = append(errs, &SettingError{Name: k.key, Err: k.err})
		} else {
			errs = append(errs, k.err)
		}
	}
	return errors.Join(append(errs, s.otherErrs...)...)
}

// SeedOnly reads the settings of an algorithm whose only setting is
// random_state: it returns the seed and whether it was given. Any other
// setting, or a value that is not a non-negative integer, is an error that
// names algorithm; every problem is reported.
func SeedOnly(algorithm string, settings map[string]string) (seed uint64, ok bool, err error) {
	r := ReadSettings(algorithm, settings)
	seed, ok = r.Seed()
	if err := r.Done(); err != nil {
		return 0, false, err
	}
	return seed, ok, nil
}

// ValueCheck checks one setting value, returning a lowercase reason.
type ValueCheck func(v string) error

// IntAtLeast accepts integers ≥ lo.
func IntAtLeast(lo int64) ValueCheck {
	return func(v string) error {
		i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		if i < lo {
			return fmt.Errorf("must be at least %d, got %d", lo, i)
		}
		return nil
	}
}

// FloatIn accepts finite numbers in the interval from lo to hi; openLo and
// openHi say which ends are excluded. Infinite bounds mean unbounded.
func FloatIn(lo, hi float64, openLo, openHi bool) ValueCheck {
	return func(v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%q is not a number", v)
		}
		if f < lo || f > hi || (openLo && f == lo) || (openHi && f == hi) {
			l, h := "[", "]"
			if openLo {
				l = "("
			}
			if openHi {
				h = ")"
			}
			return fmt.Errorf("must be in %s%v, %v%s, got %v", l, lo, hi, h, f)
		}
		return nil
	}
}

// OrNone also accepts the word None, as Katib's ENAS service does.
func OrNone(c ValueCheck) ValueCheck {
	return func(v string) error {
		if v == "None" {
			return nil
		}
		return c(v)
	}
}

// AnyValue accepts every value.
func AnyValue(string) error { return nil }
