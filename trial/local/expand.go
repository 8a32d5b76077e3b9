package local

import "strings"

// expand replaces the Kubernetes variable references $(NAME) in s with
// lookup(NAME), exactly as the kubelet expands a container's command, args
// and env values (k8s.io/kubernetes third_party/forked/golang/expansion):
//
//   - $(NAME) is replaced by lookup(NAME) when it reports the variable as set;
//     an undefined reference is left as written;
//   - $$ is an escaped $, so $$(NAME) yields the literal text $(NAME);
//   - any other $ (in a bare $NAME or ${NAME}, a trailing $, an unterminated
//     "$(NAME") is kept as it is; there is no nesting and no backslash
//     escape.
func expand(s string, lookup func(string) (string, bool)) string {
	var b strings.Builder
	checkpoint := 0
	for cursor := 0; cursor < len(s); cursor++ {
		if s[cursor] != '$' || cursor+1 == len(s) {
			continue
		}
		b.WriteString(s[checkpoint:cursor])
		read, isVar, advance := readVariable(s[cursor+1:])
		if isVar {
			if v, ok := lookup(read); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + read + ")")
			}
		} else {
			b.WriteString(read)
		}
		cursor += advance
		checkpoint = cursor + 1
	}
	return b.String() + s[checkpoint:]
}

// readVariable reads what follows a $ in s. It returns the variable name and
// true for a complete reference "(NAME)", or else the text to copy through,
// together with how many bytes of s were consumed.
func readVariable(s string) (read string, isVar bool, advance int) {
	switch s[0] {
	case '$':
		// An escaped operator.
		return "$", false, 1
	case '(':
		for i := 1; i < len(s); i++ {
			if s[i] == ')' {
				return s[1:i], true, i + 1
			}
		}
		// An incomplete reference: copy the "$(" and carry on after it.
		return "$(", false, 1
	default:
		// A $ that does not start a reference.
		return "$" + s[:1], false, 1
	}
}

// lookupIn returns a lookup function for [expand] that consults the maps in
// order, like the kubelet's MappingFuncFor.
func lookupIn(maps ...map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		for _, m := range maps {
			if v, ok := m[name]; ok {
				return v, true
			}
		}
		return "", false
	}
}
