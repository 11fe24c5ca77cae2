package jsonbody

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/socplatform/soc/schemas/problem"
)

// Hostile bodies are refused with the pointer of the value at fault.
func TestReadRefusesHostileBodies(t *testing.T) {
	for _, tc := range []struct{ name, body, field, reason string }{
		{"overlong slash", "{\"a\":\"\xc0\xaf\"}", "/a", "UTF-8"},
		{"overlong NUL", "{\"a\":\"\xc0\x80\"}", "/a", "UTF-8"},
		{"raw surrogate half", "{\"a\":\"\xed\xa0\x80\"}", "/a", "UTF-8"},
		{"lone continuation byte", "{\"a\":[\"ok\",\"x\x80y\"]}", "/a/1", "UTF-8"},
		{"truncated sequence", "{\"a\":\"\xe2\x82\"}", "/a", "UTF-8"},
		{"invalid UTF-8 in a name", "{\"a\":{\"b\xff\":1}}", "/a", "UTF-8"},
		{"invalid UTF-8 outside strings", "{\"a\":1\xff}", "/", "invalid character"},
		{"escaped high surrogate alone", `{"a":"\ud800"}`, "/a", "surrogate"},
		{"escaped low surrogate alone", `{"a":"x\udc00"}`, "/a", "surrogate"},
		{"escaped surrogates reversed", `{"a":"\udc00\ud800"}`, "/a", "surrogate"},
		{"raw NUL in a string", "{\"a\":\"x\x00y\"}", "/a", "invalid character"},
		{"raw NUL between values", "{\"a\":1,\x00\"b\":2}", "/", "invalid character"},
		{"escaped NUL in a string", `{"name":"web\u0000server"}`, "/name", "U+0000"},
		{"escaped NUL in an array", `{"tags":["a","\u0000"]}`, "/tags/1", "U+0000"},
		{"escaped NUL in a name", `{"labels":{"k\u0000":"v"}}`, "/labels", "U+0000"},
		{"duplicate key", `{"severity":"low","severity":"critical"}`, "/severity", "more than once"},
		{"duplicate key nested in arrays", `{"a":[[{"b":1}],[{"c":1,"b":2,"c":3}]]}`, "/a/1/0/c", "more than once"},
		{"duplicate key after escaping", `{"ab":1,"a\u0062":2}`, "/ab", "more than once"},
		{"huge exponent", `{"n":1e999999999}`, "/n", "exponent"},
		{"huge negative exponent", `{"n":[1E-999999999]}`, "/n/0", "exponent"},
		{"zero with huge exponent", `{"n":0e999999999}`, "/n", "exponent"},
		{"float64 overflow", `{"n":1e400}`, "/n", "range"},
		{"long number", `{"n":` + strings.Repeat("9", 65) + `}`, "/n", "longer"},
		{"deep nesting", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), "/" + strings.Repeat("0/", MaxDepth-1) + "0", "deeper"},
		{"deep objects", `{"a":` + strings.Repeat(`{"a":`, MaxDepth) + `1` + strings.Repeat("}", MaxDepth+1), "/" + strings.Repeat("a/", MaxDepth-1) + "a", "deeper"},
		{"two values", `{}{}`, "/", "more than one"},
		{"trailing garbage", `{"a":1} x`, "/", "invalid character"},
		{"cut short", `{"a":[1,2`, "/a", "ends in the middle"},
		{"not JSON", `name=x`, "/", "invalid character"},
	} {
		_, err := Read(strings.NewReader(tc.body))
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: %v, want an *Error", tc.name, err)
			continue
		}
		if e.Field() != tc.field || !strings.Contains(e.Reason, tc.reason) {
			t.Errorf("%s: field %q reason %q, want field %q and a reason saying %q", tc.name, e.Field(), e.Reason, tc.field, tc.reason)
		}
		if p := problem.From(err); p.Status != http.StatusBadRequest || p.Field != tc.field {
			t.Errorf("%s: problem %+v, want a 400 naming %s", tc.name, p, tc.field)
		}
	}
}

// Well-formed bodies come back byte for byte, whatever whitespace, escapes or depth they have
// within the bounds.
func TestReadReturnsTheBodyAsSent(t *testing.T) {
	for _, body := range []string{
		``,
		" \n\t",
		`{}`,
		`"x"`,
		`12`,
		"{\"name\":\"caf\u00e9 \\u00e9 \\ud83d\\ude00 \U0001F600\",\"n\":-1.5e-300,\"big\":9223372036854775807}\n",
		`{"a":{"a":1},"b":[{"a":1},{"a":2}],"c":"\u0001\t"}`,
		strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
		`{"n":` + strings.Repeat("9", MaxNumberLen) + `}`,
		`{"n":1e-300}`,
	} {
		got, err := Read(iotest.OneByteReader(strings.NewReader(body)))
		if err != nil {
			t.Errorf("%q: %v", body, err)
			continue
		}
		if string(got) != body {
			t.Errorf("%q: read %q", body, got)
		}
	}
}

// An error of the reader (the size bound) passes through for the caller to map.
func TestReadPassesTheReadersErrorThrough(t *testing.T) {
	r := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader(`{"a":"`+strings.Repeat("x", 100)+`"}`)), 16)
	_, err := Read(r)
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) {
		t.Fatalf("%v, want the *http.MaxBytesError", err)
	}
	var e *Error
	if errors.As(err, &e) {
		t.Fatalf("a read error reported as a bad body: %v", e)
	}
}
