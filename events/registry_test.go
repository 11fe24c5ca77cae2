package events_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/uuid"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/storetest"
)

const v1 = `{"type":"object","required":["name"],"properties":{"name":{"type":"string"}},"additionalProperties":false}`
const v2 = `{"type":"object","required":["title"],"properties":{"title":{"type":"string"}},"additionalProperties":false}`

func TestLoadRegistryFromFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"events/assets/AssetRegistered.v1.json": {Data: []byte(v1)},
		"events/assets/AssetRegistered.v2.json": {Data: []byte(v2)},
		"events/vulns/FindingOpened.v1.json":    {Data: []byte(v1)},
	}
	r, err := events.LoadRegistry(fsys, "events")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Types(), ","); got != "AssetRegistered,FindingOpened" {
		t.Fatalf("types %s", got)
	}
	ti := r.Lookup("AssetRegistered")
	if ti.Context != "assets" || ti.Latest != 2 {
		t.Fatalf("type info %+v", ti)
	}
	// v2 without an upcaster from v1 leaves v1 events unreadable in the latest shape.
	if err := r.CheckComplete(); err == nil || !strings.Contains(err.Error(), "no upcaster from v1 to v2") {
		t.Fatalf("CheckComplete: %v", err)
	}
	if err := r.RegisterUpcaster("AssetRegistered", 1, func(d json.RawMessage) (json.RawMessage, error) {
		var in struct{ Name string }
		if err := json.Unmarshal(d, &in); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]string{"title": in.Name})
	}); err != nil {
		t.Fatal(err)
	}
	if err := r.CheckComplete(); err != nil {
		t.Fatal(err)
	}
	e := events.Envelope{EventID: "x", Type: "AssetRegistered", SchemaVersion: 1, Data: json.RawMessage(`{"name":"web-1"}`)}
	if err := r.Upcast(&e); err != nil || e.SchemaVersion != 2 || string(e.Data) != `{"title":"web-1"}` {
		t.Fatalf("upcast: %v %+v %s", err, e, e.Data)
	}
	// Validation uses the requested version, the latest by default.
	if _, err := r.Validate(0, "AssetRegistered", 1, json.RawMessage(`{"name":"a"}`)); err != nil {
		t.Fatalf("v1 data against v1: %v", err)
	}
	if _, err := r.Validate(0, "AssetRegistered", 0, json.RawMessage(`{"name":"a"}`)); err == nil {
		t.Fatal("v1 data validated against the latest (v2) schema")
	}
	if _, err := r.Validate(0, "AssetRegistered", 3, json.RawMessage(`{}`)); err == nil {
		t.Fatal("a schema version that does not exist was accepted")
	}
}

// TestLoadRegistryResolvesSharedDefinitions: a schema's $ref to its context's defs.json is
// resolved from the same tree, its definition validates the data, and defs.json is no event type.
func TestLoadRegistryResolvesSharedDefinitions(t *testing.T) {
	fsys := fstest.MapFS{
		"events/assets/defs.json":           {Data: []byte(`{"$defs":{"Named":` + v1 + `}}`)},
		"events/assets/AssetNamed.v1.json":  {Data: []byte(`{"$ref":"defs.json#/$defs/Named"}`)},
		"events/assets/AssetMoved.v1.json":  {Data: []byte(`{"type":"object","properties":{"to":{"$ref":"defs.json#/$defs/Named"}}}`)},
		"events/assets/AssetBroken.v1.json": {Data: []byte(`{"$ref":"defs.json#/$defs/Missing"}`)},
	}
	if _, err := events.LoadRegistry(fsys, "events"); err == nil {
		t.Fatal("a $ref to a definition that does not exist was accepted")
	}
	delete(fsys, "events/assets/AssetBroken.v1.json")
	r, err := events.LoadRegistry(fsys, "events")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Types(), ","); got != "AssetMoved,AssetNamed" {
		t.Fatalf("types %s", got)
	}
	if _, err := r.Validate(0, "AssetNamed", 0, json.RawMessage(`{"name":"a"}`)); err != nil {
		t.Fatalf("valid data: %v", err)
	}
	for typ, data := range map[string]string{"AssetNamed": `{"name":1}`, "AssetMoved": `{"to":{"name":"a","x":1}}`} {
		var sv *events.SchemaViolationError
		if _, err := r.Validate(0, typ, 0, json.RawMessage(data)); !errors.As(err, &sv) {
			t.Errorf("%s %s: got %v, want the shared definition's violation", typ, data, err)
		}
	}
}

func TestLoadRegistryRejectsBadFiles(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"bad name":       {"events/assets/asset_registered.json": {Data: []byte(v1)}},
		"not json":       {"events/assets/AssetRegistered.v1.json": {Data: []byte(`{`)}},
		"invalid schema": {"events/assets/AssetRegistered.v1.json": {Data: []byte(`{"type":12}`)}},
		"two contexts":   {"events/assets/Moved.v1.json": {Data: []byte(v1)}, "events/scans/Moved.v2.json": {Data: []byte(v1)}},
		"stray file":     {"events/assets/X.v1.json": {Data: []byte(v1)}, "events/assets/X.v1.json.bak": {Data: []byte(v1)}},
	} {
		if _, err := events.LoadRegistry(fsys, "events"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestGuardFillsEnvelopeDefaults(t *testing.T) {
	g := events.Guard(nil, storetest.Registry(), events.Limits{})
	in := []events.Envelope{storetest.Thing("a", 1)}
	out, err := g.Prepare(storetest.StreamID(), events.NoStream, in)
	if err != nil {
		t.Fatal(err)
	}
	id, err := uuid.Parse(out[0].EventID)
	if err != nil || id.Version() != 7 {
		t.Fatalf("event id %q is not a UUIDv7", out[0].EventID)
	}
	if out[0].SchemaVersion != 1 || out[0].OccurredAt.IsZero() || out[0].StreamType != "suite-thing" {
		t.Fatalf("defaults not filled: %+v", out[0])
	}
	if in[0].EventID != "" {
		t.Fatal("Prepare modified the caller's envelope")
	}
}

func TestExpectedVersionCheck(t *testing.T) {
	cases := []struct {
		exp     events.ExpectedVersion
		current int64
		exists  bool
		ok      bool
	}{
		{events.Any, 0, false, true}, {events.Any, 5, true, true},
		{events.NoStream, 0, false, true}, {events.NoStream, 5, true, false},
		{events.StreamExists, 0, false, false}, {events.StreamExists, 5, true, true},
		{events.Exact(0), 0, false, true}, {events.Exact(0), 5, true, false},
		{events.Exact(5), 5, true, true}, {events.Exact(4), 5, true, false},
	}
	for _, c := range cases {
		if got := c.exp.Check(c.current, c.exists); got != c.ok {
			t.Errorf("%v.Check(%d, %v) = %v", c.exp, c.current, c.exists, got)
		}
	}
}

// FuzzValidate: whatever bytes arrive as event data, validation answers with nil or a typed
// error naming a field; it never panics.
func FuzzValidate(f *testing.F) {
	r := storetest.Registry()
	for _, seed := range []string{`{"name":"x","n":1}`, `{"name":""}`, `[]`, `{"name":"x","n":1e400}`, "{\"name\":\"\xff\"}", `{"a":{"b":{"c":[[[[[]]]]]}}}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := r.Validate(0, "ThingCreated", 0, data)
		if err == nil {
			var v map[string]any
			if json.Unmarshal(data, &v) != nil {
				t.Fatalf("invalid JSON %q passed validation", data)
			}
			return
		}
		var sv *events.SchemaViolationError
		if !errors.As(err, &sv) || !strings.HasPrefix(sv.Field(), "/events/0/data") {
			t.Fatalf("untyped or unnamed error for %q: %v", data, err)
		}
	})
}
