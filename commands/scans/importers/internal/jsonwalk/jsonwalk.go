// Package jsonwalk is the bounded, cancellable streaming JSON walker shared by the zap and
// cyclonedx parsers: it reads from the caller's reader, never holding the document, and refuses
// any value (skipped or not) larger than readguard.MaxTokenBytes. (The trivy, grype and sarif
// parsers stream with internal/jsonguard, which skips values of any size without keeping them,
// cuts long strings instead of refusing them and gives line and column in errors.)
package jsonwalk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
)

// Walker is a bounded, cancellable pull parser over a JSON document: callers walk objects and
// arrays member by member and decode only the small values they keep, so that no single value
// larger than readguard.MaxTokenBytes is ever buffered and nesting never goes deeper than
// readguard.MaxDepth.
type Walker struct {
	ctx    context.Context
	g      *readguard.Reader
	dec    *json.Decoder
	format string
	depth  int
	ntok   int
}

// New returns a Walker over r whose errors name format.
func New(ctx context.Context, r io.Reader, format string) *Walker {
	g := &readguard.Reader{R: r, MaxSinceMark: readguard.MaxTokenBytes, CheckUTF8: true}
	dec := json.NewDecoder(readguard.SkipBOM(g))
	return &Walker{ctx: ctx, g: g, dec: dec, format: format}
}

// Errorf is a ParseError at the decoder's input offset.
func (w *Walker) Errorf(format string, args ...any) error {
	return &importers.ParseError{Format: w.format, Offset: w.dec.InputOffset(), Msg: fmt.Sprintf(format, args...)}
}

func (w *Walker) wrap(err error, start int64) error {
	var le *readguard.LimitError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &le):
		return &importers.ParseError{Format: w.format, Offset: le.Off, Msg: le.Msg}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &se):
		return &importers.ParseError{Format: w.format, Offset: se.Offset, Msg: "malformed JSON: " + se.Error()}
	case errors.As(err, &te):
		return &importers.ParseError{Format: w.format, Offset: start + te.Offset, Msg: "unexpected JSON value: " + te.Error()}
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return &importers.ParseError{Format: w.format, Offset: w.g.Offset(), Msg: "unexpected end of input (truncated JSON)"}
	}
	return &importers.ParseError{Format: w.format, Offset: w.dec.InputOffset(), Msg: err.Error()}
}

// InputOffset is the decoder's input offset: the byte after the last token or value read.
func (w *Walker) InputOffset() int64 { return w.dec.InputOffset() }

func (w *Walker) tick() error {
	w.ntok++
	if w.ntok&255 == 0 {
		if err := w.ctx.Err(); err != nil {
			return err
		}
	}
	w.g.Mark()
	return nil
}

// Token returns the next token, tracking depth.
func (w *Walker) Token() (json.Token, error) {
	if err := w.tick(); err != nil {
		return nil, err
	}
	start := w.dec.InputOffset()
	tok, err := w.dec.Token()
	if err != nil {
		return nil, w.wrap(err, start)
	}
	if d, ok := tok.(json.Delim); ok {
		switch d {
		case '{', '[':
			w.depth++
			if w.depth > readguard.MaxDepth {
				return nil, w.Errorf("arrays and objects nested deeper than %d", readguard.MaxDepth)
			}
		default:
			w.depth--
		}
	}
	return tok, nil
}

// Decode decodes the next value into v. The value is bounded by readguard.MaxTokenBytes; encoding/json
// bounds its nesting.
func (w *Walker) Decode(v any) error {
	if err := w.tick(); err != nil {
		return err
	}
	start := w.dec.InputOffset()
	if err := w.dec.Decode(v); err != nil {
		return w.wrap(err, start)
	}
	return nil
}

// Skip consumes the next value, token by token.
func (w *Walker) Skip() error { return skip(w.Token, 0) }

// errTooDeep is skip's refusal of a value nested deeper than its bound.
var errTooDeep = errors.New("nested too deep")

// skip consumes one value whose tokens next returns, refusing nesting deeper than maxDepth when it
// is not 0 (Walker.Token bounds its own).
func skip(next func() (json.Token, error), maxDepth int) error {
	depth := 0
	for {
		tok, err := next()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
				if maxDepth > 0 && depth > maxDepth {
					return errTooDeep
				}
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// Object walks the object that is the next value; fn is called for each member name and must
// consume the member's value. A null value is an empty object.
func (w *Walker) Object(fn func(key string) error) error {
	if open, err := w.open('{', "an object"); !open {
		return err
	}
	return w.Members(fn)
}

// Members walks the rest of an object whose '{' has been read.
func (w *Walker) Members(fn func(key string) error) error {
	for {
		tok, err := w.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return nil
		}
		key, ok := tok.(string)
		if !ok {
			return w.Errorf("expected a member name, found %s", Describe(tok))
		}
		if err := fn(key); err != nil {
			return err
		}
	}
}

// Array walks the array that is the next value, calling fn for each element (fn must consume
// it). A null value is an empty array.
func (w *Walker) Array(fn func() error) error {
	if open, err := w.open('[', "an array"); !open {
		return err
	}
	return w.Elements(fn)
}

// open reads the next token, which must be delim (named what in the error) or null: open is
// false, with a nil error, for null, which Object and Array read as empty.
func (w *Walker) open(delim json.Delim, what string) (open bool, err error) {
	tok, err := w.Token()
	if err != nil || tok == nil {
		return false, err
	}
	if d, ok := tok.(json.Delim); !ok || d != delim {
		return false, w.Errorf("expected %s, found %s", what, Describe(tok))
	}
	return true, nil
}

// Elements walks the rest of an array whose '[' has been read.
func (w *Walker) Elements(fn func() error) error {
	for w.dec.More() {
		if err := fn(); err != nil {
			return err
		}
	}
	_, err := w.Token() // ']'
	return err
}

// Document reads a whole document that is one object: its members handed to fn as Object does,
// then End.
func (w *Walker) Document(fn func(key string) error) error {
	if err := w.Object(fn); err != nil {
		return err
	}
	return w.End()
}

// End checks that nothing but white space follows the document.
func (w *Walker) End() error {
	if err := w.tick(); err != nil {
		return err
	}
	if _, err := w.dec.Token(); err != io.EOF {
		if err != nil {
			return w.wrap(err, w.dec.InputOffset())
		}
		return w.Errorf("data after the end of the JSON document")
	}
	return nil
}

// Describe names the kind of tok for error messages.
func Describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", t.String())
	case string:
		return "a string"
	case nil:
		return "null"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// Scalar is a JSON string, number, boolean or null read as text: ZAP reports disagree on whether
// "port" or "riskcode" are strings or numbers, and CycloneDX producers write a number where the
// schema says string (the value is not interpreted, so it is not worth refusing the BOM).
type Scalar string

// UnmarshalJSON implements json.Unmarshaler.
func (s *Scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = Scalar(v)
	case b[0] == '{' || b[0] == '[':
		return errors.New("expected a string or number, found an object or array")
	default:
		*s = Scalar(b)
	}
	return nil
}

// TopKeys reports, for a JSON head (possibly cut anywhere), the members of the top-level object
// in order, calling fn with each name; fn may read the member's value through the decoder and
// return true to stop. Values fn leaves unread are skipped. Returns false if head does not start
// with an object.
func TopKeys(head []byte, fn func(key string, dec *json.Decoder) (stop, consumed bool)) bool {
	dec := json.NewDecoder(bytes.NewReader(readguard.TrimBOM(head)))
	tok, err := dec.Token()
	if err != nil {
		return false
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return false
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return true
		}
		key, ok := tok.(string)
		if !ok {
			return true
		}
		stop, consumed := fn(key, dec)
		if stop {
			return true
		}
		if !consumed && skip(dec.Token, readguard.MaxDepth) != nil {
			return true
		}
	}
}
