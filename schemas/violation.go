package schemas

import (
	"errors"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var printer = message.NewPrinter(language.English)

// Violation renders a JSON-schema validation error as the one failure a person can fix: the
// JSON pointer of the failing value ("" for the document itself) and why it fails. A schema
// error is a tree of causes; the first leaf is the most specific, and for a missing or an
// unexpected property the pointer names that property rather than the object holding it, so
// a problem document's field points where the client must look. ok is false when err is not
// a validation error.
func Violation(err error) (pointer, reason string, ok bool) {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return "", "", false
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	loc := append([]string(nil), ve.InstanceLocation...)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		if len(k.Missing) > 0 {
			loc = append(loc, k.Missing[0])
		}
	case *kind.AdditionalProperties:
		if len(k.Properties) > 0 {
			loc = append(loc, k.Properties[0])
		}
	}
	var sb strings.Builder
	for _, tok := range loc {
		sb.WriteByte('/')
		sb.WriteString(EscapePointer(tok))
	}
	return sb.String(), ve.ErrorKind.LocalizedString(printer), true
}

// EscapePointer escapes one JSON pointer token (RFC 6901: ~ as ~0, / as ~1).
func EscapePointer(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}
