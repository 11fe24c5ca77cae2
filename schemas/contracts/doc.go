// Package contracts holds the one Go declaration of every event payload, command payload and
// enumeration of the platform, generated from the JSON Schemas under schemas/ (never edit the
// zz_*.go files: change the schema, or for a published event add a version, and run
// `make generate`; a test fails when the committed files differ from a fresh generation).
//
// Conventions, chosen so that a payload marshals to the bytes the handlers wrote as maps
// before these types existed:
//   - fields are declared in the order of their JSON names (encoding/json's order for map keys);
//   - a required field is a plain value and always written;
//   - an optional string, array or map is left out when empty (omitempty); an optional
//     date-time is a time.Time left out when zero (omitzero);
//   - an optional boolean, number, integer or object is a pointer, nil when absent, so that
//     false, 0 and "absent" stay apart (FindingExploitabilityChanged.kev);
//   - an enumeration is a named string type with one constant per value and a <Name>Values()
//     list in the schema's order; an object without properties is a map[string]any.
//
// Each event has a Type<Name> constant (the envelope's type); version N>1 of a payload is the
// struct <Name>V<N>.
package contracts

//go:generate go run ../internal/gen -schemas .. -out .
