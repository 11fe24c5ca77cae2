package domain

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// The event schemas live in schemas/events/assets. Every change a command
// returns in these tests is validated against them (check), so schema and domain cannot drift;
// TestMain fails the run if some event type was never exercised.

var (
	schemaOnce sync.Once
	schemaReg  *events.Registry
	schemaErr  error

	seenMu sync.Mutex
	seen   = map[string]int{} // event type → changes validated
)

// registry is the platform's event registry, loaded once from the embedded schemas (the
// assets events' $refs resolve there as in production).
func registry(tb testing.TB) *events.Registry {
	tb.Helper()
	schemaOnce.Do(func() { schemaReg, schemaErr = events.PlatformRegistry() })
	if schemaErr != nil {
		tb.Fatalf("loading the event schemas: %v", schemaErr)
	}
	return schemaReg
}

// check validates every change against its event schema (the latest version).
func check(tb testing.TB, changes []es.Change) {
	tb.Helper()
	reg := registry(tb)
	for i, c := range changes {
		data, err := json.Marshal(c.Data)
		if err != nil {
			tb.Fatalf("%s: %v", c.Type, err)
		}
		if _, err := reg.Validate(i, c.Type, 0, data); err != nil {
			tb.Errorf("%s does not match its schema: %v\ndata: %s", c.Type, err, data)
		}
		seenMu.Lock()
		seen[c.Type]++
		seenMu.Unlock()
	}
}

// envelopes turns changes into stored-looking envelopes of streamID.
func envelopes(tb testing.TB, streamID string, changes []es.Change) []events.Envelope {
	tb.Helper()
	out := make([]events.Envelope, len(changes))
	for i, c := range changes {
		data, err := json.Marshal(c.Data)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = events.Envelope{StreamID: streamID, Type: c.Type, SchemaVersion: 1, Data: data}
	}
	return out
}

// replay checks changes against the schemas and applies them to the asset (and to the indexes
// given) as if they had been stored: decide, store, rebuild.
func replay(tb testing.TB, a *Asset, id string, changes []es.Change, idx ...*Index) {
	tb.Helper()
	check(tb, changes)
	for _, e := range envelopes(tb, id, changes) {
		if err := a.Apply(&e); err != nil {
			tb.Fatal(err)
		}
		for _, x := range idx {
			if err := x.Apply(&e); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// must(t)(cmd(...)) fails the test on the command's error and returns its changes after checking
// them against the schemas.
func must(tb testing.TB) func([]es.Change, error) []es.Change {
	return func(changes []es.Change, err error) []es.Change {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		check(tb, changes)
		return changes
	}
}

func second(_ []es.Change, err error) error { return err }

func assetID(n int) string { return fmt.Sprintf("assets-asset-0190a000-0000-7000-8000-%012d", n) }

// registered returns an asset registered with cmd under id, applied to the indexes given.
func registered(tb testing.TB, id string, cmd RegisterAsset, idx ...*Index) *Asset {
	tb.Helper()
	a := &Asset{}
	ch, err := a.Register(cmd)
	if err != nil {
		tb.Fatalf("registering %s: %v", id, err)
	}
	replay(tb, a, id, ch, idx...)
	return a
}

func ptr[T any](v T) *T { return &v }

func TestMain(m *testing.M) {
	code := m.Run()
	// Only a full run must have exercised every event type (a -run filter selects fewer tests).
	if f := flag.Lookup("test.run"); code == 0 && (f == nil || f.Value.String() == "") {
		var missing []string
		for _, typ := range EventTypes {
			if seen[typ] == 0 {
				missing = append(missing, typ)
			}
		}
		if len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: no test validated a change of %v against its schema\n", missing)
			code = 1
		}
	}
	os.Exit(code)
}

func TestEverySchemaHasAnEventTypeAndBack(t *testing.T) {
	reg := registry(t)
	for _, typ := range EventTypes {
		if ti := reg.Lookup(typ); ti == nil || ti.Context != "assets" || !slices.Contains(ti.Versions(), 1) {
			t.Errorf("%s has no schemas/events/assets/%s.v1.json", typ, typ)
		}
	}
	for _, typ := range reg.Types() {
		if reg.Lookup(typ).Context == "assets" && !slices.Contains(EventTypes, typ) {
			t.Errorf("schemas/events/assets/%s has no event type in the domain", typ)
		}
	}
	if err := reg.CheckComplete(); err != nil {
		t.Error(err)
	}
}

// The schemas are strict, not merely permissive: data the domain never emits is refused.
func TestSchemasRefuseWhatTheDomainNeverEmits(t *testing.T) {
	reg := registry(t)
	cases := []struct {
		typ, data, pointer string
	}{
		{contracts.TypeAssetRegistered, `{"kind":"host","name":"a","identifiers":{"macs":["aa:bb:cc:dd:ee:ff"]}}`, "/identifiers/macs/0"},
		{contracts.TypeAssetRegistered, `{"kind":"host","name":"a","identifiers":{"ips":["10.0.0.1"]},"extra":1}`, "/extra"},
		{contracts.TypeAssetRegistered, `{"kind":"printer","name":"a","identifiers":{"ips":["10.0.0.1"]}}`, "/kind"},
		{contracts.TypeAssetRegistered, `{"kind":"host","name":"a","identifiers":{}}`, "/identifiers"},
		{contracts.TypeAssetRegistered, `{"kind":"repository","name":"a","identifiers":{"repo_url":"git@github.com:o/r.git"}}`, "/identifiers/repo_url"},
		{contracts.TypeAssetRegistered, `{"kind":"web_application","name":"a","identifiers":{"base_url":"https://example.com/app"}}`, "/identifiers/base_url"},
		{contracts.TypeAssetUpdated, `{}`, ""},
		{contracts.TypeAssetClassified, `{"tags":["PCI"]}`, "/tags/0"},
		{contracts.TypeAssetLinked, `{"relation":"runs_on","target_asset_id":"vulns-finding-0190a000-0000-7000-8000-000000000001"}`, "/target_asset_id"},
		{contracts.TypeAssetIdentifiersObserved, `{"identifiers":{"ips":["10.0.0.1"]}}`, "/scan_id"},
		{contracts.TypeAssetRetired, `{"reason":""}`, "/reason"},
	}
	for _, c := range cases {
		_, err := reg.Validate(0, c.typ, 0, json.RawMessage(c.data))
		var sv *events.SchemaViolationError
		if !errors.As(err, &sv) || sv.Pointer != c.pointer {
			t.Errorf("%s %s: got %v, want a violation at %q", c.typ, c.data, err, c.pointer)
		}
	}
}
