package zap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/socplatform/soc/commands/scans/importers"
)

// walker is a bounded, cancellable pull parser over a JSON document: callers walk objects and
// arrays member by member and decode only the small values they keep, so that no single value
// larger than maxTokenBytes is ever buffered and nesting never goes deeper than maxDepth.
type walker struct {
	ctx    context.Context
	g      *guardReader
	dec    *json.Decoder
	format string
	depth  int
	ntok   int
}

func newWalker(ctx context.Context, r io.Reader, format string) *walker {
	g := &guardReader{r: r, maxSinceMark: maxTokenBytes, checkUTF8: true}
	dec := json.NewDecoder(skipBOM(g))
	return &walker{ctx: ctx, g: g, dec: dec, format: format}
}

func (w *walker) errorf(format string, args ...any) error {
	return &importers.ParseError{Format: w.format, Offset: w.dec.InputOffset(), Msg: fmt.Sprintf(format, args...)}
}

func (w *walker) wrap(err error, start int64) error {
	var le *limitError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &le):
		return &importers.ParseError{Format: w.format, Offset: le.off, Msg: le.msg}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &se):
		return &importers.ParseError{Format: w.format, Offset: se.Offset, Msg: "malformed JSON: " + se.Error()}
	case errors.As(err, &te):
		return &importers.ParseError{Format: w.format, Offset: start + te.Offset, Msg: "unexpected JSON value: " + te.Error()}
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return &importers.ParseError{Format: w.format, Offset: w.g.off, Msg: "unexpected end of input (truncated JSON)"}
	}
	return &importers.ParseError{Format: w.format, Offset: w.dec.InputOffset(), Msg: err.Error()}
}

func (w *walker) tick() error {
	w.ntok++
	if w.ntok&255 == 0 {
		if err := w.ctx.Err(); err != nil {
			return err
		}
	}
	w.g.mark = w.g.off
	return nil
}

// token returns the next token, tracking depth.
func (w *walker) token() (json.Token, error) {
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
			if w.depth > maxDepth {
				return nil, w.errorf("arrays and objects nested deeper than %d", maxDepth)
			}
		default:
			w.depth--
		}
	}
	return tok, nil
}

// decode decodes the next value into v. The value is bounded by maxTokenBytes; encoding/json
// bounds its nesting.
func (w *walker) decode(v any) error {
	if err := w.tick(); err != nil {
		return err
	}
	start := w.dec.InputOffset()
	if err := w.dec.Decode(v); err != nil {
		return w.wrap(err, start)
	}
	return nil
}

// skip consumes the next value, token by token.
func (w *walker) skip() error {
	depth := 0
	for {
		tok, err := w.token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// object walks the object that is the next value; fn is called for each member name and must
// consume the member's value. A null value is an empty object.
func (w *walker) object(fn func(key string) error) error {
	tok, err := w.token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return w.errorf("expected an object, found %s", describe(tok))
	}
	return w.members(fn)
}

// members walks the rest of an object whose '{' has been read.
func (w *walker) members(fn func(key string) error) error {
	for {
		tok, err := w.token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return nil
		}
		key, ok := tok.(string)
		if !ok {
			return w.errorf("expected a member name, found %s", describe(tok))
		}
		if err := fn(key); err != nil {
			return err
		}
	}
}

// array walks the array that is the next value, calling fn for each element (fn must consume
// it). A null value is an empty array.
func (w *walker) array(fn func() error) error {
	tok, err := w.token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return w.errorf("expected an array, found %s", describe(tok))
	}
	return w.elements(fn)
}

// elements walks the rest of an array whose '[' has been read.
func (w *walker) elements(fn func() error) error {
	for w.dec.More() {
		if err := fn(); err != nil {
			return err
		}
	}
	_, err := w.token() // ']'
	return err
}

// end checks that nothing but white space follows the document.
func (w *walker) end() error {
	if err := w.tick(); err != nil {
		return err
	}
	if _, err := w.dec.Token(); err != io.EOF {
		if err != nil {
			return w.wrap(err, w.dec.InputOffset())
		}
		return w.errorf("data after the end of the JSON document")
	}
	return nil
}

func describe(tok json.Token) string {
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

// scalar is a JSON string, number, boolean or null read as text (reports disagree on whether
// "port" or "riskcode" are strings or numbers).
type scalar string

func (s *scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalar(v)
	case b[0] == '{' || b[0] == '[':
		return errors.New("expected a string or number, found an object or array")
	default:
		*s = scalar(b)
	}
	return nil
}

// topKeys reports, for a JSON head (possibly cut anywhere), the members of the top-level object
// in order, calling fn with each name; fn may read the member's value through the decoder and
// return true to stop. Values fn leaves unread are skipped. Returns false if head does not start
// with an object.
func topKeys(head []byte, fn func(key string, dec *json.Decoder) (stop, consumed bool)) bool {
	dec := json.NewDecoder(bytes.NewReader(trimBOM(head)))
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
		if !consumed && !skipHead(dec) {
			return true
		}
	}
}

func skipHead(dec *json.Decoder) bool {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
				if depth > maxDepth {
					return false
				}
			} else {
				depth--
			}
		}
		if depth == 0 {
			return true
		}
	}
}
