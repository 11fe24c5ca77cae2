package jsonguard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Walker streams a JSON report: the parser walks the objects and arrays it reads member by
// member and element by element, decodes only the records it keeps (one at a time, each
// captured with its strings bounded, see MaxStringBytes) and skips everything else without
// keeping a byte of it. The context is checked between elements and at every read.
type Walker struct {
	lx  *lexer
	raw capture // the value being decoded; its buffer is reused
}

// Open is how each JSON parser starts: it applies the defaults to the parser's limits and
// returns a Walker over r, positioned after a UTF-8 byte order mark if there is one (offsets
// still count it, so that they match the input).
func Open(ctx context.Context, format string, r io.Reader, maxBytes int64, maxDepth int) (*Walker, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	maxBytes, maxDepth = withDefaults(maxBytes, maxDepth, DefaultMaxBytes, DefaultMaxDepth)
	w := &Walker{lx: newLexer(ctx, format, r, maxBytes, maxDepth)}
	if w.lx.fill(3) && bytes.HasPrefix(w.lx.buf[:w.lx.n], []byte("\xEF\xBB\xBF")) {
		w.lx.i = 3
	}
	return w, nil
}

// Warnings says what the walker cut: strings longer than MaxStringBytes in decoded values.
func (w *Walker) Warnings() []string {
	if w.lx.cut == 0 {
		return nil
	}
	p := w.lx.firstCut
	return []string{fmt.Sprintf("%d strings longer than %d bytes cut (the first at line %d, column %d)", w.lx.cut, MaxStringBytes, p.Line, p.Col)}
}

// Start is the position of the first byte of the next value.
func (w *Walker) Start() Pos {
	w.lx.peek()
	return w.lx.pos()
}

// Next is the first byte of the next value ('{', '[', '"', …), 0 at the end of the input: a
// parser whose format changed its top-level shape chooses how to walk on it.
func (w *Walker) Next() byte {
	c, _ := w.lx.peek()
	return c
}

// EmptyInput reports whether the input holds nothing but white space (after a byte order
// mark): the whole report of a scanner that writes an empty file when it finds nothing. A read
// error or the byte limit met before any value is that error, not an empty input.
func (w *Walker) EmptyInput() (bool, error) {
	if w.Next() != 0 {
		return false, nil
	}
	if err := w.End(); err != nil {
		return false, err
	}
	return true, nil
}

// ErrAt is a ParseError at p.
func (w *Walker) ErrAt(p Pos, msg string) error { return w.lx.errAt(p, msg) }

// posIn is the position of byte off of the captured value.
func (w *Walker) posIn(off int64) Pos {
	raw, p := w.raw.b, w.raw.start
	off = min(max(off, 0), int64(len(raw)))
	before := raw[:off]
	if nl := bytes.Count(before, []byte{'\n'}); nl > 0 {
		p.Line += nl
		p.Col = len(before) - bytes.LastIndexByte(before, '\n')
	} else {
		p.Col += len(before)
	}
	p.Off += off
	return p
}

// capture reads the next value into w.raw.
func (w *Walker) capture() error {
	if err := w.lx.ctx.Err(); err != nil {
		return err
	}
	if cap(w.raw.b) > 1<<20 { // do not keep a large record's buffer for the small ones after it
		w.raw.b = nil
	}
	w.raw.b = w.raw.b[:0]
	w.raw.start = w.Start()
	return w.lx.value(&w.raw)
}

// unmarshalErr turns the error of unmarshalling the captured value into a ParseError.
func (w *Walker) unmarshalErr(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		msg := fmt.Sprintf("cannot use JSON %s as %s", te.Value, te.Type)
		if te.Field != "" {
			msg = te.Field + ": " + msg
		}
		return w.ErrAt(w.posIn(te.Offset), msg)
	}
	return w.ErrAt(w.raw.start, err.Error())
}

// Decode decodes the next value into v and returns the position it started at.
func (w *Walker) Decode(v any) (Pos, error) {
	if err := w.capture(); err != nil {
		return w.raw.start, err
	}
	if err := json.Unmarshal(w.raw.b, v); err != nil {
		return w.raw.start, w.unmarshalErr(err)
	}
	return w.raw.start, nil
}

// DecodeTolerant decodes the next value into v like Decode, except that a member of an
// unexpected JSON type (a string where an array is expected, an object where a string is,
// which older and newer scanner versions write) is left out with a warning naming it, instead
// of refusing the report. Errors other than type errors (syntax, a score out of range) refuse
// it as Decode does. what names the value in warnings ("matches[3]").
func (w *Walker) DecodeTolerant(v any, what string, t Tolerant) (Pos, error) {
	if err := w.capture(); err != nil {
		return w.raw.start, err
	}
	raw := w.raw.b
	err := json.Unmarshal(raw, v)
	var te *json.UnmarshalTypeError
	for tries := 0; tries < 16 && err != nil; tries++ {
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
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		return w.raw.start, w.unmarshalErr(err)
	}
	return w.raw.start, nil
}

// Skip consumes the next value, keeping none of it: a string or array of any size costs no
// memory.
func (w *Walker) Skip() error { return w.lx.value(nil) }

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

// StrTo decodes the next value as a string (Str) into dst, the member of a record being read.
func (w *Walker) StrTo(dst *string) error {
	s, err := w.Str()
	*dst = s
	return err
}

// open reads the byte that opens an object or array (want '{' or '['). It reports false when
// the value is null, which callers treat as empty.
func (w *Walker) open(want byte, what string) (bool, error) {
	if err := w.lx.ctx.Err(); err != nil {
		return false, err
	}
	start := w.Start()
	c, err := w.lx.next()
	if err != nil {
		return false, err
	}
	if c == 'n' {
		return false, w.lx.literal(nil, "null")
	}
	if c != want {
		kind := "an object"
		if want == '[' {
			kind = "an array"
		}
		return false, w.ErrAt(start, fmt.Sprintf("%s: expected %s", what, kind))
	}
	return true, w.lx.open(nil)
}

// items walks the members or elements of the container just opened, calling each for every one
// and consuming the separators, up to and with the closing byte.
func (w *Walker) items(closer byte, what string, each func() error) error {
	c, err := w.lx.next()
	if err != nil {
		return err
	}
	if c == closer {
		w.lx.depth--
		w.lx.i++
		return nil
	}
	for {
		if err := w.lx.ctx.Err(); err != nil {
			return err
		}
		if err := each(); err != nil {
			return err
		}
		if c, err = w.lx.next(); err != nil {
			return err
		}
		switch c {
		case ',':
			w.lx.i++
		case closer:
			w.lx.depth--
			w.lx.i++
			return nil
		default:
			return w.lx.badByte("after " + what)
		}
	}
}

// Object walks an object (null is an empty one); fn is called for each member and must consume its
// value (Decode, Skip, Str, Object or Array).
func (w *Walker) Object(what string, fn func(key string) error) error {
	ok, err := w.open('{', what)
	if err != nil || !ok {
		return err
	}
	var key capture
	return w.items('}', "object key:value pair", func() error {
		key.b = key.b[:0]
		if err := w.lx.key(&key); err != nil {
			return err
		}
		var name string
		if err := json.Unmarshal(key.b[:len(key.b)-1], &name); err != nil { // less the ':'
			return w.ErrAt(w.lx.pos(), err.Error())
		}
		return fn(name)
	})
}

// Array walks an array (null is an empty one); fn is called for each element and must consume it.
func (w *Walker) Array(what string, fn func(i int) error) error {
	ok, err := w.open('[', what)
	if err != nil || !ok {
		return err
	}
	i := 0
	return w.items(']', "array element", func() error {
		i++
		return fn(i - 1)
	})
}

// Elements decodes each element of the array (or null) that comes next into a T appended to
// list, one at a time, so errors name the element; members of an unexpected type are left out
// as t says (see DecodeTolerant).
func Elements[T any](w *Walker, what string, list *[]T, t Tolerant) error {
	return Each(w, what, t, func(v T) { *list = append(*list, v) })
}

// Each is Elements handing each element to keep as it is decoded, so that the parser can share
// its repeated text (parseutil.Interner) before the next one is read.
func Each[T any](w *Walker, what string, t Tolerant, keep func(v T)) error {
	return w.Array(what, func(i int) error {
		var v T
		_, err := w.DecodeTolerant(&v, what+"["+strconv.Itoa(i)+"]", t)
		keep(v)
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

// DocumentArray reads a whole report that is one array: its elements handed to fn as Array does,
// then End.
func (w *Walker) DocumentArray(what string, fn func(i int) error) error {
	if err := w.Array(what, fn); err != nil {
		return err
	}
	return w.End()
}

// EachDocument reads a whole report that is one array of records: each decoded and handed to keep
// as Each does, then End.
func EachDocument[T any](w *Walker, what string, t Tolerant, keep func(v T)) error {
	if err := Each(w, what, t, keep); err != nil {
		return err
	}
	return w.End()
}

// End checks that nothing but white space follows the report.
func (w *Walker) End() error {
	_, more := w.lx.peek()
	if err := w.lx.ctx.Err(); err != nil {
		return err
	}
	if more {
		return w.ErrAt(w.lx.pos(), "unexpected data after the report")
	}
	if w.lx.err != io.EOF {
		return w.lx.endErr()
	}
	return nil
}

// DocumentWith reads a report that is one object as Document does, then refuses it with the
// message missing when it has no member key: the member that makes it a report of the parser's
// format (its records), without which it is some other JSON document.
func (w *Walker) DocumentWith(what, key, missing string, fn func(key string) error) error {
	saw := false
	err := w.Document(what, func(k string) error {
		saw = saw || k == key
		return fn(k)
	})
	if err == nil && !saw {
		err = w.ErrAt(Pos{}, missing)
	}
	return err
}

// ArrayDocument reads a report that is one object whose member key is the array of records the
// parser keeps (each decoded and handed to keep as Each does); its other members are skipped. A
// report without that member is refused with the message missing.
func ArrayDocument[T any](w *Walker, key string, t Tolerant, keep func(v T), missing string) error {
	return w.DocumentWith("report", key, missing, func(k string) error {
		if k != key {
			return w.Skip()
		}
		return Each(w, key, t, keep)
	})
}
