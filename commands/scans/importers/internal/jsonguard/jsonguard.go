// Package jsonguard holds the defences the trivy, grype and sarif parsers need on a JSON report: a
// bounded, cancellable read that refuses over-deep nesting as the bytes arrive and invalid UTF-8
// before any decoder sees the input; a streaming Walker over json.Decoder that checks the context
// between elements; errors as *importers.ParseError with line, column and byte offset; the score
// and line-number types; and the tolerant look at the head of a file that Detect uses.
package jsonguard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// DefaultMaxBytes and DefaultMaxDepth are the limits of the JSON parsers whose own are zero.
// Real reports nest less than 20 levels.
const (
	DefaultMaxBytes = 512 << 20
	DefaultMaxDepth = 128
)

// Limits is what the JSON parsers' Parser types embed: the bounds their users may set, whose
// zero values mean the defaults (Open applies them).
type Limits struct {
	// MaxBytes is the largest report accepted; 0 means DefaultMaxBytes (512 MiB).
	MaxBytes int64
	// MaxDepth is the deepest nesting of JSON arrays and objects accepted; 0 means
	// DefaultMaxDepth (128).
	MaxDepth int
}

// Open is how each JSON parser starts: it applies the defaults to the parser's limits, loads the
// report (see Load) and returns a Walker over it.
func Open(ctx context.Context, format string, r io.Reader, maxBytes int64, maxDepth int) (*Walker, error) {
	maxBytes, maxDepth = withDefaults(maxBytes, maxDepth, DefaultMaxBytes, DefaultMaxDepth)
	data, err := Load(ctx, format, r, maxBytes, maxDepth)
	if err != nil {
		return nil, err
	}
	return NewWalker(ctx, format, data), nil
}

// withDefaults applies a parser's defaults to its MaxBytes and MaxDepth fields: zero or less
// means the default.
func withDefaults(maxBytes int64, maxDepth int, defaultBytes int64, defaultDepth int) (int64, int) {
	if maxBytes <= 0 {
		maxBytes = defaultBytes
	}
	if maxDepth <= 0 {
		maxDepth = defaultDepth
	}
	return maxBytes, maxDepth
}

// IsCtxErr reports whether err is the context's own error, which Parse returns unwrapped.
func IsCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Load reads the whole report, at most maxBytes, checking ctx between chunks, and refuses, as the
// bytes arrive, nesting of arrays and objects deeper than maxDepth (so a hostile input is dropped
// after its first chunk, before any decoder allocates for it); at the end it refuses invalid
// UTF-8. A UTF-8 byte order mark is blanked (replaced by spaces) so that offsets match the input.
func Load(ctx context.Context, format string, r io.Reader, maxBytes int64, maxDepth int) ([]byte, error) {
	var buf bytes.Buffer
	var sc depthScanner
	chunk := make([]byte, 256<<10)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := r.Read(chunk)
		if n > 0 {
			if int64(buf.Len())+int64(n) > maxBytes {
				return nil, PosErr(format, buf.Bytes(), int64(buf.Len()),
					fmt.Sprintf("report is larger than the %d-byte limit", maxBytes))
			}
			start := buf.Len()
			buf.Write(chunk[:n])
			if off, deep := sc.feed(buf.Bytes(), start, maxDepth); deep {
				return nil, PosErr(format, buf.Bytes(), int64(off), fmt.Sprintf("nesting deeper than %d levels", maxDepth))
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if IsCtxErr(err) {
				return nil, err
			}
			return nil, fmt.Errorf("%s report: read: %w", format, err)
		}
	}
	data := buf.Bytes()
	if bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		copy(data, "   ")
	}
	if !utf8.Valid(data) {
		for i := 0; i < len(data); {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, PosErr(format, data, int64(i), "invalid UTF-8")
			}
			i += n
		}
	}
	return data, nil
}

// depthScanner follows the nesting of arrays and objects across chunks, skipping strings.
type depthScanner struct {
	depth int
	inStr bool
	esc   bool
}

// feed scans data[from:]; it reports the offset of the first bracket deeper than maxDepth.
func (s *depthScanner) feed(data []byte, from, maxDepth int) (int, bool) {
	for i := from; i < len(data); {
		if s.inStr {
			if s.esc {
				s.esc = false
				i++
				continue
			}
			rest := data[i:]
			q := bytes.IndexByte(rest, '"')
			seg := rest
			if q >= 0 {
				seg = rest[:q]
			}
			if b := bytes.IndexByte(seg, '\\'); b >= 0 {
				i += b + 1
				s.esc = true
				continue
			}
			if q < 0 {
				return 0, false
			}
			i += q + 1
			s.inStr = false
			continue
		}
		switch data[i] {
		case '"':
			s.inStr = true
		case '[', '{':
			s.depth++
			if s.depth > maxDepth {
				return i, true
			}
		case ']', '}':
			s.depth--
		}
		i++
	}
	return 0, false
}

// PosErr is a ParseError at byte offset off of data, with its 1-based line and byte column.
func PosErr(format string, data []byte, off int64, msg string) *importers.ParseError {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return &importers.ParseError{Format: format, Offset: off, Line: line, Column: col, Msg: msg}
}

// noop accepts any JSON value without keeping it; json.Unmarshal into it only validates syntax.
type noop struct{}

func (*noop) UnmarshalJSON([]byte) error { return nil }

// Walker streams a JSON document: objects and arrays of interest are walked token by token and
// their elements decoded one at a time, so the context is checked between elements and errors
// carry the element's position.
type Walker struct {
	ctx    context.Context
	format string
	data   []byte
	dec    *json.Decoder
}

// NewWalker returns a Walker over data (as returned by Load) whose errors name format.
func NewWalker(ctx context.Context, format string, data []byte) *Walker {
	return &Walker{ctx: ctx, format: format, data: data, dec: json.NewDecoder(bytes.NewReader(data))}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// base is where json.Decoder starts the next value it decodes: after the ',' or ':' that precedes
// it. Offsets in *json.UnmarshalTypeError are relative to it.
func (w *Walker) base() int64 {
	in := w.dec.InputOffset()
	off := in
	for off < int64(len(w.data)) && isSpace(w.data[off]) {
		off++
	}
	if off < int64(len(w.data)) && (w.data[off] == ',' || w.data[off] == ':') {
		return off + 1
	}
	return in
}

// Start is the offset of the first byte of the next value.
func (w *Walker) Start() int64 {
	off := w.base()
	for off < int64(len(w.data)) && isSpace(w.data[off]) {
		off++
	}
	return off
}

// Next is the first byte of the next value ('{', '[', '"', …), 0 at the end of the input: a
// parser whose format changed its top-level shape chooses how to walk on it.
func (w *Walker) Next() byte {
	if off := w.Start(); off < int64(len(w.data)) {
		return w.data[off]
	}
	return 0
}

// ErrAt is a ParseError at byte offset off of the document.
func (w *Walker) ErrAt(off int64, msg string) error { return PosErr(w.format, w.data, off, msg) }

// fail turns a decoder error met while reading the value that starts at start (decoder base
// base) into a ParseError with the best position known.
func (w *Walker) fail(base, start int64, err error) error {
	if IsCtxErr(err) {
		return err
	}
	var pe *importers.ParseError
	if errors.As(err, &pe) {
		return pe
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return w.ErrAt(int64(len(w.data)), "unexpected end of input (truncated report?)")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// json.Decoder's syntax error offsets are not reliable once Token has been used;
		// the whole-document check gives the exact one.
		if verr := json.Unmarshal(w.data, new(noop)); verr != nil {
			var vse *json.SyntaxError
			if errors.As(verr, &vse) {
				off := vse.Offset
				if strings.HasPrefix(vse.Error(), "invalid character") && off > 0 {
					off-- // Offset counts the offending byte
				}
				return w.ErrAt(off, vse.Error())
			}
		}
		return w.ErrAt(start, se.Error())
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		msg := fmt.Sprintf("cannot use JSON %s as %s", te.Value, te.Type)
		if te.Field != "" {
			msg = te.Field + ": " + msg
		}
		return w.ErrAt(base+te.Offset, msg)
	}
	return w.ErrAt(start, err.Error())
}

// Decode decodes the next value into v and returns the offset it started at.
func (w *Walker) Decode(v any) (int64, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	base, start := w.base(), w.Start()
	if err := w.dec.Decode(v); err != nil {
		return start, w.fail(base, start, err)
	}
	return start, nil
}

// Tolerant is how DecodeTolerant treats a member whose JSON type is not the one expected.
type Tolerant struct {
	// Required are the dotted member paths ("artifact.name", "VulnerabilityID") a report cannot
	// do without (the fingerprint's parts): a wrong type there, or on an object holding one,
	// still refuses the report.
	Required []string
	// Warn receives one sentence per member left out.
	Warn func(msg string)
}

// DecodeTolerant decodes the next value into v like Decode, except that a member of an
// unexpected JSON type (a string where an array is expected, an object where a string is,
// which older and newer scanner versions write) is left out with a warning naming it, instead
// of refusing the report. Errors other than type errors (syntax, a score out of range) refuse
// it as Decode does. what names the value in warnings ("matches[3]").
func (w *Walker) DecodeTolerant(v any, what string, t Tolerant) (int64, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	base, start := w.base(), w.Start()
	err := w.dec.Decode(v)
	if err == nil {
		return start, nil
	}
	// json.Decoder reads the whole value before it unmarshals, so after a type error the value
	// is data[start:InputOffset()] and can be decoded again without the offending member.
	var te *json.UnmarshalTypeError
	end := w.dec.InputOffset()
	if !errors.As(err, &te) || end <= start || end > int64(len(w.data)) {
		return start, w.fail(base, start, err)
	}
	raw := w.data[start:end]
	for tries := 0; tries < 16; tries++ {
		if !errors.As(err, &te) || te.Field == "" {
			break
		}
		trimmed, dropped, ok := dropMember(raw, strings.Split(te.Field, "."))
		if !ok || t.required(dropped) {
			break
		}
		if t.Warn != nil {
			t.Warn(fmt.Sprintf("%s.%s: JSON %s where %s was expected: left out", what, dropped, te.Value, jsonKind(te.Type.Kind().String())))
		}
		raw = trimmed
		reflect.ValueOf(v).Elem().SetZero()
		if err = json.Unmarshal(raw, v); err == nil {
			return start, nil
		}
	}
	return start, w.fail(base, start, err)
}

// jsonKind names a Go kind as the JSON the report should have had.
func jsonKind(k string) string {
	switch k {
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	}
	return "a number"
}

// required reports whether the member at the JSON path field is, holds or is inside a required
// member.
func (t Tolerant) required(field string) bool {
	field = strings.ToLower(field)
	for _, r := range t.Required {
		r = strings.ToLower(r)
		if r == field || strings.HasPrefix(r, field+".") || strings.HasPrefix(field, r+".") {
			return true
		}
	}
	return false
}

// dropMember removes the member at path (object keys, matched as encoding/json does, without
// case; arrays on the way are entered element by element; a segment that is no key, the name
// of an embedded Go struct, is passed over) from the JSON value raw. dropped is the JSON path
// of what it removed.
func dropMember(raw []byte, path []string) (out []byte, dropped string, ok bool) {
	if Kind(raw) == '[' {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return nil, "", false
		}
		for i := range list {
			if o, d, ok := dropMember(list[i], path); ok {
				list[i], dropped = o, d
			}
		}
		out, err := json.Marshal(list)
		return out, dropped, dropped != "" && err == nil
	}
	var obj map[string]json.RawMessage
	if Kind(raw) != '{' || json.Unmarshal(raw, &obj) != nil {
		return nil, "", false
	}
	for k, val := range obj {
		if !strings.EqualFold(k, path[0]) {
			continue
		}
		if len(path) == 1 {
			delete(obj, k)
			dropped = k
		} else {
			inner, d, ok := dropMember(val, path[1:])
			if !ok {
				return nil, "", false
			}
			obj[k], dropped = inner, k+"."+d
		}
		out, err := json.Marshal(obj)
		return out, dropped, err == nil
	}
	if len(path) > 1 {
		return dropMember(raw, path[1:])
	}
	return nil, "", false
}

// Skip consumes the next value.
func (w *Walker) Skip() error {
	_, err := w.Decode(new(noop))
	return err
}

// Str decodes the next value as a string; null reads as "".
func (w *Walker) Str() (string, error) {
	var s *string
	if _, err := w.Decode(&s); err != nil {
		return "", err
	}
	if s == nil {
		return "", nil
	}
	return *s, nil
}

// open reads the delimiter that opens an object or array (want '{' or '['). It reports false when
// the value is null, which callers treat as empty.
func (w *Walker) open(want json.Delim, what string) (bool, error) {
	if err := w.ctx.Err(); err != nil {
		return false, err
	}
	base, start := w.base(), w.Start()
	tok, err := w.dec.Token()
	if err != nil {
		return false, w.fail(base, start, err)
	}
	if tok == nil {
		return false, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		kind := "an object"
		if want == '[' {
			kind = "an array"
		}
		return false, w.ErrAt(start, fmt.Sprintf("%s: expected %s", what, kind))
	}
	return true, nil
}

func (w *Walker) close() error {
	base, start := w.base(), w.Start()
	if _, err := w.dec.Token(); err != nil {
		return w.fail(base, start, err)
	}
	return nil
}

// Object walks an object (null is an empty one); fn is called for each member and must consume its
// value (Decode, Skip, Str, Object or Array).
func (w *Walker) Object(what string, fn func(key string) error) error {
	ok, err := w.open('{', what)
	if err != nil || !ok {
		return err
	}
	for w.dec.More() {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		base, start := w.base(), w.Start()
		tok, err := w.dec.Token()
		if err != nil {
			return w.fail(base, start, err)
		}
		key, _ := tok.(string)
		if err := fn(key); err != nil {
			return err
		}
	}
	return w.close()
}

// Array walks an array (null is an empty one); fn is called for each element and must consume it.
func (w *Walker) Array(what string, fn func(i int) error) error {
	ok, err := w.open('[', what)
	if err != nil || !ok {
		return err
	}
	for i := 0; w.dec.More(); i++ {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		if err := fn(i); err != nil {
			return err
		}
	}
	return w.close()
}

// Elements decodes each element of the array (or null) that comes next into a T appended to
// list, one at a time, so errors name the element; members of an unexpected type are left out
// as t says (see DecodeTolerant).
func Elements[T any](w *Walker, what string, list *[]T, t Tolerant) error {
	return w.Array(what, func(i int) error {
		var v T
		_, err := w.DecodeTolerant(&v, what+"["+strconv.Itoa(i)+"]", t)
		*list = append(*list, v)
		return err
	})
}

// Count skips the array (or null) that comes next and returns how many elements it had.
func (w *Walker) Count(what string) (int, error) {
	n := 0
	err := w.Array(what, func(int) error {
		n++
		return w.Skip()
	})
	return n, err
}

// Document reads a whole report that is one object: its members handed to fn as Object does, then
// End.
func (w *Walker) Document(what string, fn func(key string) error) error {
	if err := w.Object(what, fn); err != nil {
		return err
	}
	return w.End()
}

// End checks that nothing but white space follows the report.
func (w *Walker) End() error {
	off := w.Start()
	if off < int64(len(w.data)) {
		return w.ErrAt(off, "unexpected data after the report")
	}
	return nil
}

// Kind is the first byte of the JSON value b, white space skipped: '{', '[', '"', 'n' (null),
// 't' or 'f', a digit or '-'; 0 when b is empty. The custom UnmarshalJSON methods of fields that
// changed shape between scanner versions switch on it.
func Kind(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// Score is an optional CVSS score in [0, 10], given as a JSON number or a numeric string.
type Score struct {
	V  float64
	OK bool // false when the report gave none (absent, null or "")
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *Score) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = Score{}
		return nil
	}
	txt := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &txt); err != nil {
			return err
		}
		txt = strings.TrimSpace(txt)
		if txt == "" {
			*s = Score{}
			return nil
		}
	}
	f, err := strconv.ParseFloat(txt, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 10 {
		return fmt.Errorf("score %s is not a number in [0, 10]", parseutil.TruncateEllipsis(string(b), 40))
	}
	*s = Score{V: f, OK: true}
	return nil
}

// Ptr is the score, or nil when there is none.
func (s Score) Ptr() *float64 {
	if !s.OK {
		return nil
	}
	v := s.V
	return &v
}

// LineNo is a line or column number: an integer in [0, 2^31), given as a JSON number or, as
// some converters write it, a numeric string ("" and null are 0).
type LineNo int

// UnmarshalJSON implements json.Unmarshaler.
func (n *LineNo) UnmarshalJSON(b []byte) error {
	txt := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &txt); err != nil {
			return err
		}
		txt = strings.TrimSpace(txt)
	}
	if txt == "null" || txt == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(txt, 10, 32)
	if err != nil || v < 0 {
		return fmt.Errorf("line/column number %s is not an integer in [0, 2147483647]", parseutil.TruncateEllipsis(string(b), 40))
	}
	*n = LineNo(v)
	return nil
}

// HeadPaths looks at the start of a JSON document (which may be cut anywhere) and records, for the
// members it reaches, their path ("/runs/0/tool") and either the scalar value or "{" / "[". Only
// the first element of arrays and the first four levels are recorded. Detect functions decide on it.
func HeadPaths(head []byte) map[string]string {
	head = bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	out := map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(head))
	var walk func(path string, depth int, record bool) error
	walk = func(path string, depth int, record bool) error {
		if depth > 32 {
			return errors.New("too deep")
		}
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		rec := func(v string) {
			if record && depth <= 4 {
				if _, seen := out[path]; !seen {
					out[path] = v
				}
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				rec("{")
				for dec.More() {
					k, err := dec.Token()
					if err != nil {
						return err
					}
					key, _ := k.(string)
					if err := walk(path+"/"+key, depth+1, record); err != nil {
						return err
					}
				}
			case '[':
				rec("[")
				for i := 0; dec.More(); i++ {
					if err := walk(path+"/"+strconv.Itoa(i), depth+1, record && i == 0); err != nil {
						return err
					}
				}
			default:
				return errors.New("unexpected delimiter")
			}
			_, err := dec.Token()
			return err
		case string:
			rec(t)
		case nil:
			rec("null")
		default:
			rec(fmt.Sprint(t))
		}
		return nil
	}
	_ = walk("", 0, true) // a cut head ends in an error; what was seen is enough
	return out
}
