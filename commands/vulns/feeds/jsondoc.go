package feeds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonDoc walks a JSON feed document with a json.Decoder reading through a guard.
type jsonDoc struct {
	ctx    context.Context
	feed   Feed
	opt    Options
	g      *guard
	dec    *json.Decoder
	origin int64
}

func newJSONDoc(ctx context.Context, r io.Reader, feed Feed, opt Options) (*jsonDoc, error) {
	src, origin, err := openInput(r)
	if err != nil {
		return nil, &ParseError{Feed: feed, Offset: 0, Record: -1, Msg: "gzip: " + err.Error(), Err: err}
	}
	g := newGuard(ctx, src, feed, opt, origin)
	return &jsonDoc{ctx: ctx, feed: feed, opt: opt, g: g, dec: json.NewDecoder(g), origin: origin}, nil
}

// offset is the absolute offset of the decoder's read position.
func (d *jsonDoc) offset() int64 { return d.origin + d.dec.InputOffset() }

// arm prepares a decoder call: the window before the read position is dropped and the call may
// read at most MaxRecordBytes past it. It returns the read position.
func (d *jsonDoc) arm() int64 {
	off := d.offset()
	d.g.forget(off)
	d.g.limit = off + d.opt.MaxRecordBytes
	return off
}

func (d *jsonDoc) more() bool {
	d.arm()
	return d.dec.More()
}

// token reads the next token; io.EOF is returned as is (the caller decides if it is expected).
func (d *jsonDoc) token(field string, rec int) (json.Token, error) {
	at := d.arm()
	t, err := d.dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, d.fail(err, at, field, rec)
	}
	return t, nil
}

// delim reads a token that must be want (or null when orNull: returns false).
func (d *jsonDoc) delim(want json.Delim, orNull bool, field string, rec int) (bool, error) {
	at := d.offset()
	t, err := d.token(field, rec)
	if err == io.EOF {
		return false, d.truncated(field, rec)
	}
	if err != nil {
		return false, err
	}
	if t == nil && orNull {
		return false, nil
	}
	if t != want {
		pe := &ParseError{Feed: d.feed, Record: rec, Field: field, Err: ErrSyntax,
			Msg: fmt.Sprintf("expected %q, found %s", want.String(), describeToken(t))}
		d.g.fillPos(pe, skipSpace(d.g.window(at), at))
		return false, pe
	}
	return true, nil
}

// key reads an object member name (the caller has checked more()).
func (d *jsonDoc) key(field string) (string, error) {
	t, err := d.token(field, -1)
	if err == io.EOF {
		return "", d.truncated(field, -1)
	}
	if err != nil {
		return "", err
	}
	k, ok := t.(string)
	if !ok {
		return "", d.errAt(d.offset(), ErrSyntax, field, -1, "expected a member name, found "+describeToken(t))
	}
	return k, nil
}

// decode decodes the next value into v and returns the offset where the value starts. A value
// that is well-formed JSON but does not fit v (a string for a number, 1e400 for a float64) is
// consumed whole and reported as ErrInvalidValue at the offending member, so the stream can go on
// (Options.SkipInvalid).
func (d *jsonDoc) decode(v any, field string, rec int) (int64, error) {
	at := d.arm()
	err := d.dec.Decode(v)
	// The value starts after white space and the ',' or ':' the decoder consumed before it;
	// encoding/json counts type-error offsets from just after that separator.
	afterSep, value := valueStart(d.g.window(at))
	dataStart, start := at+int64(afterSep), at+int64(value)
	if err == nil {
		return start, nil
	}
	if err == io.EOF {
		return start, d.truncated(field, rec)
	}
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		off := dataStart + ute.Offset
		if off < start || off > d.offset() {
			off = start
		}
		return start, d.errAt(off, ErrInvalidValue, joinField(field, ute.Field), rec,
			fmt.Sprintf("cannot use JSON %s as %s", ute.Value, ute.Type))
	}
	return start, d.fail(err, at, field, rec)
}

// end checks that nothing but white space follows the top-level value.
func (d *jsonDoc) end() error {
	at := d.arm()
	t, err := d.dec.Token()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return d.fail(err, at, "", -1)
	}
	return d.errAt(skipSpace(d.g.window(at), at), ErrSyntax, "", -1,
		"data after the top-level value: "+describeToken(t))
}

// fail turns an error from a decoder call that started at offset at into the error to return.
func (d *jsonDoc) fail(err error, at int64, field string, rec int) error {
	var pe *ParseError
	switch {
	case errors.As(err, &pe):
		if pe.Record < 0 {
			pe.Record = rec
		}
		if pe.Field == "" {
			pe.Field = field
		}
		return pe
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF), err == io.EOF:
		return d.truncated(field, rec)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off, msg := d.locateSyntax(at)
		if msg == "" {
			msg = se.Error()
		}
		if off < 0 {
			return d.truncated(field, rec)
		}
		return d.errAt(off, ErrSyntax, field, rec, msg)
	}
	// encoding/json reports some grammar errors (e.g. a missing comma in Token mode) with other
	// types; treat anything else from the decoder as a syntax error at the call's position.
	off, _ := d.locateSyntax(at)
	if off < 0 {
		off = d.g.n
	}
	return d.errAt(off, ErrSyntax, field, rec, err.Error())
}

// valueStart returns the index in w just after white space and one ',' or ':' (where a decoder
// call that starts at w's beginning counts its type-error offsets from), and the index of the
// value after more white space.
func valueStart(w []byte) (afterSep, value int) {
	i := 0
	for i < len(w) && isSpace(w[i]) {
		i++
	}
	if i < len(w) && (w[i] == ',' || w[i] == ':') {
		i++
	}
	afterSep = i
	for i < len(w) && isSpace(w[i]) {
		i++
	}
	return afterSep, i
}

// locateSyntax finds the offending byte of a syntax error in a decoder call that started at
// offset at (encoding/json's Decoder reports offsets relative to its own bookkeeping). It
// re-reads the window: after white space and one ',' or ':', the token or value there is decoded
// on its own; its error offset is exact. When it decodes fine the error is the token itself. A
// negative offset means the input ended.
func (d *jsonDoc) locateSyntax(at int64) (int64, string) {
	b := d.g.window(at)
	_, i := valueStart(b)
	if i >= len(b) {
		return -1, ""
	}
	var raw json.RawMessage
	err := json.NewDecoder(bytes.NewReader(b[i:])).Decode(&raw)
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off := se.Offset - 1
		if off < 0 {
			off = 0
		}
		return at + int64(i) + off, se.Error()
	case err == io.EOF, errors.Is(err, io.ErrUnexpectedEOF):
		return -1, ""
	}
	return at + int64(i), fmt.Sprintf("unexpected %s", describeByte(b[i]))
}

func (d *jsonDoc) truncated(field string, rec int) error {
	return d.errAt(d.g.n, ErrTruncated, field, rec, "unexpected end of input")
}

func (d *jsonDoc) errAt(off int64, cause error, field string, rec int, msg string) *ParseError {
	pe := &ParseError{Feed: d.feed, Record: rec, Field: field, Msg: msg, Err: cause}
	d.g.fillPos(pe, off)
	return pe
}

// position is a remembered place in the input, for errors found after the window moved on.
type position struct {
	off       int64
	line, col int
}

func (d *jsonDoc) position(off int64) position {
	l, c := d.g.pos(off)
	return position{off, l, c}
}

func (d *jsonDoc) errAtPos(p position, cause error, field string, rec int, msg string) *ParseError {
	return &ParseError{Feed: d.feed, Offset: p.off, Line: p.line, Column: p.col, Record: rec, Field: field, Msg: msg, Err: cause}
}

// recordErr places a validation error of the record that starts at offset start: the field is
// prefixed with the record's path. Type errors from decoding reassembled bytes are placed at
// the record start too.
func (d *jsonDoc) recordErr(err error, start int64, prefix string, rec int) *ParseError {
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.Feed, pe.Record = d.feed, rec
		pe.Field = joinField(prefix, pe.Field)
		if pe.Offset < 0 {
			d.g.fillPos(pe, start)
		}
		return pe
	}
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return d.errAt(start, ErrInvalidValue, joinField(prefix, ute.Field), rec,
			fmt.Sprintf("cannot use JSON %s as %s", ute.Value, ute.Type))
	}
	return d.errAt(start, ErrInvalidValue, prefix, rec, err.Error())
}

// invalid is a validation failure of a field, placed later by recordErr.
func invalid(field, format string, args ...any) *ParseError {
	return &ParseError{Offset: -1, Record: -1, Field: field, Err: ErrInvalidValue, Msg: fmt.Sprintf(format, args...)}
}

func joinField(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	}
	return prefix + "." + field
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, at int64) int64 {
	i := 0
	for i < len(b) && (isSpace(b[i]) || b[i] == ',' || b[i] == ':') {
		i++
	}
	return at + int64(i)
}

func describeToken(t json.Token) string {
	switch v := t.(type) {
	case nil:
		return "null"
	case json.Delim:
		return fmt.Sprintf("%q", v.String())
	case string:
		return fmt.Sprintf("string %q", truncate(v, 40))
	case bool:
		return fmt.Sprintf("%v", v)
	}
	return fmt.Sprintf("%T %v", t, t)
}

func describeByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("character %q", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// walkObject reads a top-level object. Members named by stream must hold arrays (or null); for
// each element elem is called with its index and must decode exactly one value (d.decode). For
// any other member, member is called and must decode its value. It returns the offset of the
// object's opening brace.
func (d *jsonDoc) walkObject(
	stream func(key string) bool,
	elem func(key string, i int) error,
	member func(key string) error,
) (int64, error) {
	at := d.offset()
	t, err := d.token("", -1)
	if err == io.EOF {
		return 0, d.errAt(d.g.n, ErrTruncated, "", -1, "empty input")
	}
	if err != nil {
		return 0, err
	}
	if t != json.Delim('{') {
		return 0, d.errAt(skipSpace(d.g.window(at), at), ErrUnknownFormat, "", -1,
			"top-level value is "+describeToken(t)+", not an object")
	}
	start := d.offset() - 1
	d.g.mark(start)
	members := 0
	for d.more() {
		key, err := d.key("")
		if err != nil {
			return 0, err
		}
		if members++; members > maxTopLevelMembers {
			return 0, d.errAt(d.offset(), ErrTooLarge, key, -1,
				fmt.Sprintf("more than %d top-level members", maxTopLevelMembers))
		}
		if !stream(key) {
			if err := member(key); err != nil {
				return 0, err
			}
			continue
		}
		isArray, err := d.delim('[', true, key, -1)
		if err != nil {
			return 0, err
		}
		if !isArray {
			continue
		}
		for i := 0; d.more(); i++ {
			if err := d.ctx.Err(); err != nil {
				return 0, err
			}
			if err := elem(key, i); err != nil {
				return 0, err
			}
		}
		if _, err := d.delim(']', false, key, -1); err != nil {
			return 0, err
		}
	}
	if _, err := d.delim('}', false, "", -1); err != nil {
		return 0, err
	}
	return start, d.end()
}
