// Package jsonguard holds the defences the trivy, grype and sarif parsers need on a JSON report: a
// streaming Walker that reads the report through a fixed window (never holding it: values it
// skips cost no memory whatever their size, values it decodes are captured one record at a time
// with their strings bounded), refuses over-deep nesting, invalid UTF-8 and over-large reports as
// the bytes arrive, checks the context between elements and gives errors as
// *importers.ParseError with line, column and byte offset; the score and line-number types; and
// the tolerant look at the head of a file that Detect uses.
package jsonguard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

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

// Tolerant is how DecodeTolerant treats a member whose JSON type is not the one expected.
type Tolerant struct {
	// Required are the dotted member paths ("artifact.name", "VulnerabilityID") a report cannot
	// do without (the fingerprint's parts): a wrong type there, or on an object holding one,
	// still refuses the report.
	Required []string
	// Warn receives one sentence per member left out.
	Warn func(msg string)
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

// HasAny reports whether any of paths is among the members the head p (HeadPaths) reached: the
// members that tell a format from another, or from the formats its scanner also writes.
func HasAny(p map[string]string, paths ...string) bool {
	for _, path := range paths {
		if _, ok := p[path]; ok {
			return true
		}
	}
	return false
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
