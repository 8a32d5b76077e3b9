// Package jsonfields lists the fields encoding/json sees in a struct type,
// for strict decoders that report unknown fields with their full path.
package jsonfields

import (
	"reflect"
	"strings"
)

// Of maps the JSON names of struct type t's fields to their types,
// flattening embedded structs without a name (Kubernetes' ",inline"
// TypeMeta) as encoding/json does: the outer field wins on a clash.
// Unexported fields and fields tagged "-" are left out.
func Of(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type)
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range Of(ft) {
					if _, ok := fields[k]; !ok {
						fields[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}
