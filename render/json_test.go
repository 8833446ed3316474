package render

import (
	"bytes"
	stdjson "encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/tcptrace/tcptrace/report"
)

// The JSON records are encoded with github.com/goccy/go-json for speed; the
// format is encoding/json's (docs/json.md). TestJSONMatchesStdlib fills
// every field of every record type with random values, edge cases included
// (floats at the switch to exponent form, invalid UTF-8, HTML and control
// characters, nil and empty pointers, slices and maps) and checks that both
// libraries write the same bytes.
func TestJSONMatchesStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	types := []any{&report.Conn{}, &report.Anomaly{}, &report.Summary{}, &ResetRecord{}, &ResetsSummary{}}
	total := 0
	for i := range 3000 {
		for _, v := range types {
			x := reflect.New(reflect.TypeOf(v).Elem())
			fill(rng, x.Elem(), 0)
			var want, got bytes.Buffer
			se, ge := stdjson.NewEncoder(&want), json.NewEncoder(&got)
			se.SetEscapeHTML(i%2 == 0) // the renderers do not escape HTML
			ge.SetEscapeHTML(i%2 == 0)
			err1, err2 := se.Encode(x.Interface()), ge.Encode(x.Interface())
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("%T #%d: encoding/json error %v, go-json error %v", v, i, err1, err2)
			}
			if err1 != nil {
				continue
			}
			if want.String() != got.String() {
				t.Fatalf("%T #%d differs:\nencoding/json %s\ngo-json       %s", v, i, want.Bytes(), got.Bytes())
			}
			total += want.Len()
		}
	}
	t.Logf("%d bytes of JSON compared", total)
}

var (
	edgeFloats = []float64{0, 1, -1, 0.5, 1e-6, 1e-7, 9.99e-7, 1e20, 1e21, 123456789.123, 5e-324,
		math.MaxFloat64, 1.0 / 3, 0.000123, 55585.24853019775, -1e21}
	edgeStrings = []string{"", "a", "127.0.0.1:80", "<&>", "\u2028\u2029", "tab\there", "nl\n", "\x00\x1f",
		"quote\"back\\", "\xff\xfeinvalid", "日本", "é", "\x7f"}
)

func fill(rng *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		switch rng.IntN(3) {
		case 0:
			v.SetInt(0)
		case 1:
			v.SetInt(rng.Int64N(1000) - 10)
		default:
			v.SetInt(rng.Int64() >> uint(64-v.Type().Bits()+rng.IntN(8)))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(rng.Uint64() >> uint(64-v.Type().Bits()+rng.IntN(8)))
	case reflect.Float32, reflect.Float64:
		if rng.IntN(2) == 0 {
			v.SetFloat(edgeFloats[rng.IntN(len(edgeFloats))])
		} else {
			v.SetFloat(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(30)-15)))
		}
	case reflect.String:
		s := edgeStrings[rng.IntN(len(edgeStrings))]
		if rng.IntN(2) == 0 {
			s += edgeStrings[rng.IntN(len(edgeStrings))]
		}
		v.SetString(s)
	case reflect.Pointer:
		if depth > 4 || rng.IntN(4) == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(rng, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		if depth > 4 || rng.IntN(4) == 0 {
			return
		}
		n := rng.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(rng, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fill(rng, v.Index(i), depth+1)
		}
	case reflect.Map:
		if depth > 4 || rng.IntN(4) == 0 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for range rng.IntN(4) {
			k := reflect.New(v.Type().Key()).Elem()
			fill(rng, k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(rng, e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(rng, v.Field(i), depth+1)
			}
		}
	case reflect.Interface:
		if rng.IntN(2) == 0 {
			v.Set(reflect.ValueOf(edgeStrings[rng.IntN(len(edgeStrings))]))
		}
	}
}
