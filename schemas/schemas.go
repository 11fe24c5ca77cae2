// Package schemas holds the JSON Schemas (draft 2020-12) of every command and event the
// platform knows, embedded so that the binary validates exactly what the repository declares.
//
// Layout: events/<context>/<EventType>.v<N>.json, and events/<context>/defs.json for the shapes
// the context's events share by $ref. A published file never changes (the lock file events.lock
// pins its digest, the defs.json files' too); a breaking change is a new version with an upcaster,
// and a shared shape that must change is declared again in defs.v<N>.json for it.
package schemas

import "embed"

// Events is the tree of event schemas, rooted so that paths read "<context>/<Type>.v<N>.json".
//
//go:embed events
var events embed.FS

// EventsFS returns the event schemas rooted at the events directory.
func EventsFS() embed.FS { return events }

// AsyncAPI describes the Kafka topics the relay writes (AsyncAPI 3.0).
//
//go:embed asyncapi.yaml
var AsyncAPI string

// EventsLock is the digest of every published event schema, one "path sha256" per line.
//
//go:embed events.lock
var EventsLock string
