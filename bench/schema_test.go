package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// validate checks v (decoded with encoding/json into any) against the
// subset of JSON Schema docs/bench.schema.json uses: type (one or a
// list), const, enum, properties, required, additionalProperties (false
// or a schema), items, minimum, minItems. It returns every violation,
// each with its JSON path.
func validate(schema map[string]any, v any, path string) []string {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, a...)) }
	if t, ok := schema["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, x.(string))
			}
		}
		okType := false
		for _, ty := range types {
			okType = okType || hasType(v, ty)
		}
		if !okType {
			bad("%v is not of type %v", v, types)
			return errs
		}
	}
	if c, ok := schema["const"]; ok && !reflect.DeepEqual(c, v) {
		bad("%v, want %v", v, c)
	}
	if e, ok := schema["enum"].([]any); ok {
		found := false
		for _, x := range e {
			found = found || reflect.DeepEqual(x, v)
		}
		if !found {
			bad("%v not one of %v", v, e)
		}
	}
	if m, ok := schema["minimum"].(float64); ok {
		if x, isNum := v.(float64); isNum && x < m {
			bad("%v below the minimum %v", x, m)
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for _, r := range asStrings(schema["required"]) {
			if _, ok := v[r]; !ok {
				bad("missing required %q", r)
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, validate(ps, v[k], path+"."+k)...)
				continue
			}
			switch ap := schema["additionalProperties"].(type) {
			case bool:
				if !ap {
					bad("property %q is not in the schema", k)
				}
			case map[string]any:
				errs = append(errs, validate(ap, v[k], path+"."+k)...)
			}
		}
	case []any:
		if n, ok := schema["minItems"].(float64); ok && float64(len(v)) < n {
			bad("%d items, want at least %v", len(v), n)
		}
		if is, ok := schema["items"].(map[string]any); ok {
			for i, x := range v {
				errs = append(errs, validate(is, x, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return errs
}

func hasType(v any, ty string) bool {
	switch ty {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		x, ok := v.(float64)
		return ok && x == math.Trunc(x)
	}
	return false
}

func asStrings(v any) []string {
	var out []string
	if a, ok := v.([]any); ok {
		for _, x := range a {
			out = append(out, x.(string))
		}
	}
	return out
}

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "bench.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("docs/bench.schema.json: %v", err)
	}
	return s
}

// The output of a smoke run (and of a report with every optional field
// set) validates against docs/bench.schema.json, whose version is the
// one this package writes.
func TestJSONSchema(t *testing.T) {
	schema := loadSchema(t)
	if schema["version"] != SchemaVersion {
		t.Errorf("docs/bench.schema.json has version %v, the package writes %s", schema["version"], SchemaVersion)
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"--smoke", "--json", "--quiet", "--filter", "^(kernels/Dot/f32|gemm/NN/f64/native)/", "--threads", "1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	full := smallReport(t)
	full.Command, full.Smoke, full.Machine.Hypervisor, full.Machine.BuildTags = "nnkern bench", false, "kvm", "purego"
	full.Checks = []PeakCheck{{DType: "f32", ISA: "avx2", Threads: 1, FLOPsPerCycle: 32, ClockGHz: 3, ExpectedGFLOPS: 96, MeasuredGFLOPS: 95, Ratio: 0.99}}
	r := &full.Results[0]
	r.Bytes, r.Cycles, r.GBPS, r.GHz, r.Peak, r.PeakValue, r.PeakPct = 8, 1, 1, 1, "fma", 10, 50
	r.SpeedUp, r.SpeedUpVs, r.Ratios, r.Error = 2, "gonum", map[string]float64{"gonum": 2}, "x"
	var fullJSON bytes.Buffer
	if err := WriteJSON(&fullJSON, full); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"smoke run": out.Bytes(), "full report": fullJSON.Bytes()} {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, e := range validate(schema, v, "$") {
			t.Errorf("%s: %s", name, e)
		}
	}
	// The validator rejects what it should.
	var v map[string]any
	json.Unmarshal(out.Bytes(), &v)
	v["surprise"] = 1
	v["machine"].(map[string]any)["logical_cpus"] = 0.5
	delete(v["results"].([]any)[0].(map[string]any), "name")
	errs := strings.Join(validate(schema, v, "$"), "\n")
	for _, want := range []string{`$: property "surprise"`, "$.machine.logical_cpus: 0.5 is not of type", `$.results[0]: missing required "name"`} {
		if !strings.Contains(errs, want) {
			t.Errorf("validator missed %q; it said:\n%s", want, errs)
		}
	}
}

// Every field the Go types write is in the schema and the schema names no
// field they do not write (so the document cannot drift from the code).
func TestJSONSchemaCoversTypes(t *testing.T) {
	schema := loadSchema(t)
	props := func(path ...string) map[string]any {
		s := schema
		for _, p := range path {
			s = s["properties"].(map[string]any)[p].(map[string]any)
			if it, ok := s["items"].(map[string]any); ok {
				s = it
			}
		}
		return s["properties"].(map[string]any)
	}
	for _, c := range []struct {
		where string
		typ   reflect.Type
		props map[string]any
	}{
		{"report", reflect.TypeOf(Report{}), props()},
		{"machine", reflect.TypeOf(Machine{}), props("machine")},
		{"peaks", reflect.TypeOf(PeakFigure{}), props("peaks")},
		{"peak_checks", reflect.TypeOf(PeakCheck{}), props("peak_checks")},
		{"results", reflect.TypeOf(Result{}), props("results")},
	} {
		tags := jsonFields(c.typ)
		for _, f := range tags {
			if _, ok := c.props[f]; !ok {
				t.Errorf("%s: field %q is not in docs/bench.schema.json", c.where, f)
			}
		}
		for p := range c.props {
			found := false
			for _, f := range tags {
				found = found || f == p
			}
			if !found {
				t.Errorf("%s: docs/bench.schema.json has %q, which the Go type does not write", c.where, p)
			}
		}
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "bench-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []reflect.Type{reflect.TypeOf(Report{}), reflect.TypeOf(Machine{}), reflect.TypeOf(PeakFigure{}), reflect.TypeOf(PeakCheck{}), reflect.TypeOf(Result{})} {
		for _, f := range jsonFields(typ) {
			if !bytes.Contains(doc, []byte("`"+f+"`")) {
				t.Errorf("docs/bench-json.md does not explain %s's field `%s`", typ.Name(), f)
			}
		}
	}
}

// jsonFields lists the JSON names of t's exported fields (embedded
// structs' fields inline, as encoding/json does).
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}
