// Package jsonbody reads the JSON body of a client request strictly, so that what a command
// handler validates is exactly what the client sent and what every event-store backend can keep.
//
// encoding/json is lenient where a lenient reader loses or invents data: it replaces invalid
// UTF-8 and lone surrogate escapes with U+FFFD, and for a member given twice it keeps the last
// one, so {"severity":"low","severity":"critical"} means whatever the next reader picks. Read
// refuses all of these, naming the failing value as a JSON pointer:
//
//   - invalid UTF-8 anywhere (overlong forms, surrogate halves, lone continuation bytes) and
//     escaped surrogates that do not pair (RFC 7493, I-JSON);
//   - a member name given twice in one object, at any depth;
//   - the character U+0000, raw (already invalid JSON) or escaped as \u0000, in any string or
//     member name: escaped NUL is valid JSON, but no name, description or identifier of a SOC
//     record has a use for it, PostgreSQL's jsonb cannot store it (the PostgreSQL event store
//     refuses it, the SQLite one does not: the same command must not succeed on one backend
//     and fail on the other), and C-string tools downstream truncate at it;
//   - numbers that no field can hold: over MaxNumberLen characters, an exponent beyond
//     ±MaxExponent, or out of float64's range (1e400). The schema validator computes with
//     exact rationals, so 1e-999999999 alone would cost it seconds and gigabytes;
//   - nesting deeper than MaxDepth, and anything after the one top-level value.
//
// The check streams token by token over the reader it is given; the caller bounds that reader
// (http.MaxBytesReader), and the bytes Read returns are the body as sent, for the schema
// validation and the typed decoding that follow.
package jsonbody

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/socplatform/soc/schemas/problem"
)

// Bounds of a body. No command nests deeper than five levels or needs a number beyond int64
// or float64; these leave room and keep every later reader's work small.
const (
	MaxDepth     = 64
	MaxNumberLen = 64
	MaxExponent  = 400
)

// Error is a body Read refuses. Pointer is the JSON pointer of the failing value ("" for the
// body itself); for a bad member name it is the object holding the member.
type Error struct {
	Pointer string
	Reason  string
}

func (e *Error) Error() string {
	if e.Pointer == "" {
		return "the body is not acceptable JSON: " + e.Reason
	}
	return e.Pointer + ": " + e.Reason
}

// Kind implements problem.KindError: a malformed body is a 400.
func (e *Error) Kind() problem.Kind { return problem.KindInvalid }

// Field implements problem.FieldError. The body itself is "/", as in the command endpoints'
// schema errors: a client always gets a field to show the error beside.
func (e *Error) Field() string {
	if e.Pointer == "" {
		return "/"
	}
	return e.Pointer
}

// Read reads r to its end and returns what it read when it holds at most one JSON value (a
// blank body is returned as it is: the caller decides what an empty body means). A body that
// breaks a rule of the package is an *Error; an error of r itself (an *http.MaxBytesError) is
// returned wrapped, for errors.As.
func Read(r io.Reader) ([]byte, error) {
	var body bytes.Buffer
	dec := jsontext.NewDecoder(io.TeeReader(r, &body), jsontext.AllowDuplicateNames(false), jsontext.AllowInvalidUTF8(false))
	for done := false; ; {
		tok, err := dec.ReadToken()
		if errors.Is(err, io.EOF) {
			// Plain io.EOF only comes between values; a value cut short is io.ErrUnexpectedEOF.
			return body.Bytes(), nil
		}
		if err != nil {
			return nil, syntaxError(err)
		}
		if done {
			return nil, &Error{Reason: "the body holds more than one JSON value"}
		}
		if err := check(dec, tok); err != nil {
			return nil, err
		}
		done = dec.StackDepth() == 0
	}
}

// check applies the rules jsontext does not to the token just read.
func check(dec *jsontext.Decoder, tok jsontext.Token) error {
	switch tok.Kind() {
	case '{', '[':
		if dec.StackDepth() > MaxDepth {
			return &Error{Pointer: string(dec.StackPointer()), Reason: fmt.Sprintf("nested deeper than %d levels", MaxDepth)}
		}
	case '"':
		s := tok.String()
		if !strings.ContainsRune(s, 0) {
			return nil
		}
		ptr := dec.StackPointer()
		if k, n := dec.StackIndex(dec.StackDepth()); k == '{' && n%2 == 1 {
			// A member name: point at its object (a pointer holding a NUL helps nobody).
			return &Error{Pointer: string(ptr.Parent()), Reason: fmt.Sprintf("the member name %q holds the character U+0000", s)}
		}
		return &Error{Pointer: string(ptr), Reason: "the string holds the character U+0000 (NUL)"}
	case '0':
		if reason := badNumber(tok.String()); reason != "" {
			return &Error{Pointer: string(dec.StackPointer()), Reason: reason}
		}
	}
	return nil
}

// badNumber says why no field can hold the number n (already valid JSON), or "".
func badNumber(n string) string {
	if len(n) > MaxNumberLen {
		return fmt.Sprintf("the number is longer than %d characters", MaxNumberLen)
	}
	if i := strings.IndexAny(n, "eE"); i >= 0 {
		// An exponent too long for Atoi is beyond the bound as well.
		if e, err := strconv.Atoi(strings.TrimPrefix(n[i+1:], "+")); err != nil || e > MaxExponent || e < -MaxExponent {
			return fmt.Sprintf("the number's exponent is beyond ±%d", MaxExponent)
		}
	}
	if _, err := strconv.ParseFloat(n, 64); err != nil {
		return "the number is out of the range of a 64-bit float"
	}
	return ""
}

// syntaxError turns what jsontext refused into an *Error naming the value; an I/O error of the
// reader is returned as it is (wrapped by jsontext, which unwraps to it).
func syntaxError(err error) error {
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) {
		return err
	}
	if errors.Is(se.Err, jsontext.ErrDuplicateName) {
		return &Error{Pointer: string(se.JSONPointer), Reason: fmt.Sprintf("the member %q is given more than once in its object", se.JSONPointer.LastToken())}
	}
	reason := se.Err.Error()
	if errors.Is(se.Err, io.ErrUnexpectedEOF) {
		reason = "the body ends in the middle of a JSON value"
	}
	return &Error{Pointer: string(se.JSONPointer), Reason: reason}
}
