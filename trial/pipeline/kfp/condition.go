package kfp

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// operand is what a condition's parameter reference becomes: the Argo
// expression of the task input's value and its KFP type.
type operand struct {
	expr string
	typ  string
}

// whenExpr translates a trigger policy condition, the CEL expression KFP
// writes for dsl.If/Elif/Else (dsl.Condition), into an Argo `when`
// expression (govaluate) over the Argo expressions of the task's inputs,
// which lookup returns by input name. The CEL subset is:
//
//	expr    = and { "||" and }
//	and     = unary { "&&" unary }
//	unary   = "!" unary | "(" expr ")" | compare
//	compare = value [ ("==" | "!=" | "<" | "<=" | ">" | ">=") value ]
//	value   = ref | ("int" | "double") "(" ref ")" | 'string' | "string" | number | true | false
//	ref     = inputs.parameter_values[NAME] | inputs.parameters[NAME]
//
// A STRING input is compared quoted ('{{...}}' == 'heads'); numbers and
// booleans unquoted. Anything else is an error saying what is allowed.
func whenExpr(cond string, lookup func(name string) (operand, error)) (string, error) {
	toks, err := lexCEL(cond)
	if err != nil {
		return "", err
	}
	p := &celParser{toks: toks, lookup: lookup}
	out, err := p.or()
	if err != nil {
		return "", err
	}
	if p.pos < len(p.toks) {
		return "", fmt.Errorf("unexpected %q at the end of the condition", p.toks[p.pos].text)
	}
	return out, nil
}

type celToken struct {
	kind byte // 'i' identifier, 's' string, 'n' number, 'o' operator or punctuation
	text string
}

func lexCEL(s string) ([]celToken, error) {
	var toks []celToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			j := i + 1
			var b strings.Builder
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' {
					return nil, fmt.Errorf("escape sequences in string literals are not supported")
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string literal")
			}
			toks = append(toks, celToken{'s', b.String()})
			i = j + 1
		case c >= '0' && c <= '9' || c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' && lastIsOperator(toks):
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				(s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E')) {
				j++
			}
			if _, err := strconv.ParseFloat(s[i:j], 64); err != nil {
				return nil, fmt.Errorf("bad number %q", s[i:j])
			}
			toks = append(toks, celToken{'n', s[i:j]})
			i = j
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] == '.' || unicode.IsLetter(rune(s[j])) || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			toks = append(toks, celToken{'i', s[i:j]})
			i = j
		default:
			op := ""
			for _, o := range []string{"==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "[", "]"} {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("unexpected %q", s[i:i+1])
			}
			toks = append(toks, celToken{'o', op})
			i += len(op)
		}
	}
	return toks, nil
}

func lastIsOperator(toks []celToken) bool {
	return len(toks) == 0 || toks[len(toks)-1].kind == 'o' && toks[len(toks)-1].text != ")" && toks[len(toks)-1].text != "]"
}

type celParser struct {
	toks   []celToken
	pos    int
	lookup func(string) (operand, error)
}

func (p *celParser) peek(text string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == 'o' && p.toks[p.pos].text == text
}

func (p *celParser) expect(text string) error {
	if !p.peek(text) {
		if p.pos >= len(p.toks) {
			return fmt.Errorf("expected %q at the end of the condition", text)
		}
		return fmt.Errorf("expected %q, got %q", text, p.toks[p.pos].text)
	}
	p.pos++
	return nil
}

func (p *celParser) or() (string, error) {
	left, err := p.and()
	if err != nil {
		return "", err
	}
	for p.peek("||") {
		p.pos++
		right, err := p.and()
		if err != nil {
			return "", err
		}
		left = left + " || " + right
	}
	return left, nil
}

func (p *celParser) and() (string, error) {
	left, err := p.unary()
	if err != nil {
		return "", err
	}
	for p.peek("&&") {
		p.pos++
		right, err := p.unary()
		if err != nil {
			return "", err
		}
		left = left + " && " + right
	}
	return left, nil
}

func (p *celParser) unary() (string, error) {
	switch {
	case p.peek("!"):
		p.pos++
		x, err := p.unary()
		if err != nil {
			return "", err
		}
		return "!" + x, nil
	case p.peek("("):
		p.pos++
		x, err := p.or()
		if err != nil {
			return "", err
		}
		if err := p.expect(")"); err != nil {
			return "", err
		}
		return "(" + x + ")", nil
	}
	return p.compare()
}

// celValue is a parsed comparison side before rendering.
type celValue struct {
	ref     *operand // a parameter reference
	numeric bool     // the reference is cast with int() or double()
	literal string   // the literal's text, when ref is nil
	kind    byte     // 's', 'n' or 'b' for literals
}

func (p *celParser) compare() (string, error) {
	left, err := p.value()
	if err != nil {
		return "", err
	}
	for _, op := range []string{"==", "!=", "<=", ">=", "<", ">"} {
		if p.peek(op) {
			p.pos++
			right, err := p.value()
			if err != nil {
				return "", err
			}
			quote := left.isString() || right.isString()
			l, err := left.render(quote)
			if err != nil {
				return "", err
			}
			r, err := right.render(quote)
			if err != nil {
				return "", err
			}
			return l + " " + op + " " + r, nil
		}
	}
	if left.ref != nil && left.ref.typ == TypeBoolean || left.kind == 'b' {
		return left.render(false)
	}
	return "", fmt.Errorf("a condition must be a comparison (==, !=, <, <=, >, >=) or a BOOLEAN input")
}

func (v celValue) isString() bool {
	if v.ref != nil {
		return !v.numeric && v.ref.typ == TypeString
	}
	return v.kind == 's'
}

func (v celValue) render(quote bool) (string, error) {
	if v.ref != nil {
		switch {
		case v.numeric:
			return v.ref.expr, nil
		case v.ref.typ == TypeList || v.ref.typ == TypeStruct:
			return "", fmt.Errorf("%s inputs cannot be compared in a condition", v.ref.typ)
		case quote:
			return "'" + v.ref.expr + "'", nil
		}
		return v.ref.expr, nil
	}
	if v.kind == 's' || quote {
		if strings.ContainsAny(v.literal, "'{}") {
			return "", fmt.Errorf("string literal %q: quotes and braces are not supported in conditions", v.literal)
		}
		return "'" + v.literal + "'", nil
	}
	return v.literal, nil
}

func (p *celParser) value() (celValue, error) {
	if p.pos >= len(p.toks) {
		return celValue{}, fmt.Errorf("unexpected end of the condition")
	}
	t := p.toks[p.pos]
	p.pos++
	switch t.kind {
	case 's':
		return celValue{literal: t.text, kind: 's'}, nil
	case 'n':
		return celValue{literal: t.text, kind: 'n'}, nil
	case 'i':
		switch t.text {
		case "true", "false":
			return celValue{literal: t.text, kind: 'b'}, nil
		case "int", "double":
			if err := p.expect("("); err != nil {
				return celValue{}, err
			}
			ref, err := p.ref()
			if err != nil {
				return celValue{}, err
			}
			if err := p.expect(")"); err != nil {
				return celValue{}, err
			}
			return celValue{ref: ref, numeric: true}, nil
		case "inputs.parameter_values", "inputs.parameters":
			p.pos--
			ref, err := p.ref()
			if err != nil {
				return celValue{}, err
			}
			return celValue{ref: ref}, nil
		}
		return celValue{}, fmt.Errorf("%q is not supported (allowed: inputs.parameter_values['NAME'], int(...), double(...), literals)", t.text)
	}
	return celValue{}, fmt.Errorf("unexpected %q", t.text)
}

func (p *celParser) ref() (*operand, error) {
	if p.pos >= len(p.toks) || p.toks[p.pos].kind != 'i' ||
		p.toks[p.pos].text != "inputs.parameter_values" && p.toks[p.pos].text != "inputs.parameters" {
		return nil, fmt.Errorf("expected inputs.parameter_values['NAME']")
	}
	p.pos++
	if err := p.expect("["); err != nil {
		return nil, err
	}
	if p.pos >= len(p.toks) || p.toks[p.pos].kind != 's' {
		return nil, fmt.Errorf("expected a quoted input name after inputs.parameter_values[")
	}
	name := p.toks[p.pos].text
	p.pos++
	if err := p.expect("]"); err != nil {
		return nil, err
	}
	op, err := p.lookup(name)
	if err != nil {
		return nil, err
	}
	return &op, nil
}
