package kfp

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The parameter types of ParameterType.ParameterTypeEnum.
const (
	TypeDouble  = "NUMBER_DOUBLE"
	TypeInteger = "NUMBER_INTEGER"
	TypeString  = "STRING"
	TypeBoolean = "BOOLEAN"
	TypeList    = "LIST"
	TypeStruct  = "STRUCT"
)

// maxSafeInteger is the largest NUMBER_INTEGER the proto allows (2^53-1).
const maxSafeInteger = 1<<53 - 1

// paramType returns the type of a parameter definition: parameterType,
// else the deprecated type (INT, DOUBLE, STRING) mapped to its successor.
func paramType(parameterType, deprecated string) (string, error) {
	switch parameterType {
	case TypeDouble, TypeInteger, TypeString, TypeBoolean, TypeList, TypeStruct:
		return parameterType, nil
	case "TASK_FINAL_STATUS":
		return "", fmt.Errorf("TASK_FINAL_STATUS parameters are not supported (exit handlers reading a task's final status need the KFP backend)")
	case "TASK_CONFIG":
		return "", fmt.Errorf("TASK_CONFIG parameters are not supported (dsl.TaskConfig passthrough needs KFP's driver)")
	case "", "PARAMETER_TYPE_ENUM_UNSPECIFIED":
	default:
		return "", fmt.Errorf("unknown parameterType %q (allowed: NUMBER_DOUBLE, NUMBER_INTEGER, STRING, BOOLEAN, LIST, STRUCT)", parameterType)
	}
	switch deprecated {
	case "INT":
		return TypeInteger, nil
	case "DOUBLE":
		return TypeDouble, nil
	case "STRING":
		return TypeString, nil
	}
	return "", fmt.Errorf("parameterType is required (one of NUMBER_DOUBLE, NUMBER_INTEGER, STRING, BOOLEAN, LIST, STRUCT)")
}

// Convert returns the text a value of KFP parameter type typ is given to a
// container as, the way KFP's launcher renders a placeholder: a STRING as
// is; a NUMBER_DOUBLE in shortest decimal form without exponent ("0.001",
// "5"); a NUMBER_INTEGER as a decimal integer (a double with an integral
// value, such as 200.0, is accepted); a BOOLEAN as "true" or "false"; a
// LIST or STRUCT as compact JSON. v is a JSON value (string, float64,
// int64, json.Number, bool, []any, map[string]any); a string is parsed as
// the type (Katib's substitution makes every runtime value a string:
// "0.01", "3", "true", `["a","b"]`). A value that is not of the type, a
// non-finite number, or an integer beyond ±(2^53-1) is an error saying what
// was expected.
func Convert(typ string, v any) (string, error) {
	switch typ {
	case TypeString:
		switch x := v.(type) {
		case string:
			return x, nil
		case nil:
			return "", nil
		}
		return "", fmt.Errorf("STRING wants a string, got %s", describe(v))
	case TypeDouble, TypeInteger:
		f, err := number(v)
		if err != nil {
			return "", fmt.Errorf("%s wants a number, got %s", typ, describe(v))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "", fmt.Errorf("%s wants a finite number, got %s", typ, describe(v))
		}
		if typ == TypeDouble {
			return strconv.FormatFloat(f, 'f', -1, 64), nil
		}
		if f != math.Trunc(f) {
			return "", fmt.Errorf("NUMBER_INTEGER wants an integer, got %s", describe(v))
		}
		if math.Abs(f) > maxSafeInteger {
			return "", fmt.Errorf("NUMBER_INTEGER wants an integer within ±(2^53-1), got %s", describe(v))
		}
		return strconv.FormatInt(int64(f), 10), nil
	case TypeBoolean:
		switch x := v.(type) {
		case bool:
			return strconv.FormatBool(x), nil
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(x))
			if err == nil {
				return strconv.FormatBool(b), nil
			}
		}
		return "", fmt.Errorf("BOOLEAN wants true or false, got %s", describe(v))
	case TypeList, TypeStruct:
		if s, ok := v.(string); ok {
			var parsed any
			if err := json.Unmarshal([]byte(s), &parsed); err != nil {
				return "", fmt.Errorf("%s wants JSON (%s), got %s", typ, jsonShape(typ), describe(v))
			}
			v = parsed
		}
		_, isList := v.([]any)
		_, isStruct := v.(map[string]any)
		if typ == TypeList && !isList || typ == TypeStruct && !isStruct {
			return "", fmt.Errorf("%s wants %s, got %s", typ, jsonShape(typ), describe(v))
		}
		out, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("%s: %w", typ, err)
		}
		return string(out), nil
	}
	return "", fmt.Errorf("unknown parameter type %q", typ)
}

func jsonShape(typ string) string {
	if typ == TypeList {
		return "a JSON array"
	}
	return "a JSON object"
}

// number returns v as a float64 when it is a number or a string holding one.
func number(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case json.Number:
		return x.Float64()
	case string:
		return strconv.ParseFloat(strings.TrimSpace(x), 64)
	}
	return 0, fmt.Errorf("not a number")
}

// describe renders v for an error message.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprint(v)
}
