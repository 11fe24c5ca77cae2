// Package contracts holds the one Go declaration of every event payload, command payload and
// enumeration of the platform, generated from the JSON Schemas under schemas/ (never edit the
// zz_*.go files: change the schema, or for a published event add a version, and run
// `make generate`; a test fails when the committed files differ from a fresh generation).
//
// Conventions, chosen so that a payload marshals to the bytes the hand-written structs it
// replaces did:
//   - fields are declared in the schema's order (a handler that writes a map gets its keys
//     sorted by encoding/json instead: where the two differ it keeps the map);
//   - a required field is a plain value and always written;
//   - an optional string, array or map is left out when empty (omitempty); an optional
//     date-time is a time.Time left out when zero (omitzero);
//   - an optional boolean, number, integer or object is a pointer, nil when absent, so that
//     false, 0 and "absent" stay apart;
//   - a change set (a payload that requires nothing but at least one property, as
//     AssetClassified or FindingExploitabilityChanged) has a pointer for every field: being
//     present is the information ("owner_team": "" clears the owner);
//   - an enumeration is a named string type with one constant per value and a <Name>Values()
//     list in the schema's order; an object without properties is a map[string]any;
//   - a payload that is another payload of its context plus fields (ScanImportCompletedV2,
//     ScanDefinitionCreated) embeds it, its fields first, as the schema lists them; a command
//     payload with exactly an event payload's fields (ClassifyAsset) is a type of that event's.
//
// Each event has a Type<Name> constant (the envelope's type); version N>1 of a payload is the
// struct <Name>V<N>.
package contracts

//go:generate go run ../internal/gen -schemas .. -out .
