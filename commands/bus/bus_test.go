package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/socplatform/soc/commands/bus"
	"github.com/socplatform/soc/schemas"
	"github.com/socplatform/soc/schemas/problem"
)

const pingSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "x-command-type": "test.ping",
  "type": "object",
  "additionalProperties": false,
  "required": ["target", "at"],
  "properties": {
    "target": {"type": "string", "minLength": 1},
    "at": {"type": "string", "format": "date-time"}
  }
}`

// An HTTP command: no x-command-type, so not a bus command.
const httpSchema = `{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}`

type ping struct {
	Target string    `json:"target"`
	At     time.Time `json:"at"`
}

func newBus(t *testing.T) *bus.Bus {
	t.Helper()
	b, err := bus.New(fstest.MapFS{
		"test/Ping.json":    {Data: []byte(pingSchema)},
		"test/Comment.json": {Data: []byte(httpSchema)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDispatchRoundTrip(t *testing.T) {
	b := newBus(t)
	var got []string
	err := bus.Register(b, "test.ping", func(_ context.Context, id string, c ping) error {
		got = append(got, id+" "+c.Target+" "+c.At.UTC().Format(time.RFC3339))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Dispatch(context.Background(), "cmd-1", "test.ping", json.RawMessage(`{"target":"db-1","at":"2026-01-02T03:04:05Z"}`)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"cmd-1 db-1 2026-01-02T03:04:05Z"}; !slices.Equal(got, want) {
		t.Fatalf("handler got %q, want %q", got, want)
	}
	// The handler's own error comes back as it is.
	boom := errors.New("store unavailable")
	b2 := newBus(t)
	if err := bus.Register(b2, "test.ping", func(context.Context, string, ping) error { return boom }); err != nil {
		t.Fatal(err)
	}
	if err := b2.Dispatch(context.Background(), "cmd-2", "test.ping", json.RawMessage(`{"target":"x","at":"2026-01-02T03:04:05Z"}`)); !errors.Is(err, boom) {
		t.Fatalf("handler error: %v", err)
	}
}

func TestInvalidPayloadIsPermanentAndNeverHandled(t *testing.T) {
	b := newBus(t)
	calls := 0
	if err := bus.Register(b, "test.ping", func(context.Context, string, ping) error { calls++; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ payload, pointer string }{
		{`{"at":"2026-01-02T03:04:05Z"}`, "/target"},
		{`{"target":"","at":"2026-01-02T03:04:05Z"}`, "/target"},
		{`{"target":"x","at":"yesterday"}`, "/at"},
		{`{"target":"x","at":"2026-01-02T03:04:05Z","extra":1}`, "/extra"},
		{`not json`, ""},
		{``, "/target"}, // no payload is the empty object
	} {
		err := b.Dispatch(context.Background(), "id", "test.ping", json.RawMessage(c.payload))
		pe, ok := errors.AsType[*bus.PayloadError](err)
		if !ok || pe.Type != "test.ping" || pe.Pointer != c.pointer || pe.Reason == "" {
			t.Fatalf("%s: %v, want a PayloadError at %q", c.payload, err, c.pointer)
		}
		if !pe.Permanent() || pe.Kind() != problem.KindInvalid || pe.Field() != c.pointer {
			t.Fatalf("%s: permanent=%v kind=%v field=%q", c.payload, pe.Permanent(), pe.Kind(), pe.Field())
		}
	}
	if calls != 0 {
		t.Fatalf("the handler ran %d times on invalid payloads", calls)
	}
}

func TestRegisterRefusesDuplicatesAndTypesWithoutSchema(t *testing.T) {
	b := newBus(t)
	h := func(context.Context, string, ping) error { return nil }
	if err := bus.Register(b, "test.ping", h); err != nil {
		t.Fatal(err)
	}
	if err := bus.Register(b, "test.ping", h); err == nil || !strings.Contains(err.Error(), "has a handler already") {
		t.Fatalf("second registration: %v", err)
	}
	for _, name := range []string{"test.pong", "test/Comment", ""} {
		if err := bus.Register(b, name, h); err == nil || !strings.Contains(err.Error(), "no command schema") {
			t.Fatalf("register %q: %v", name, err)
		}
	}
	if got := b.Handled(); !slices.Equal(got, []string{"test.ping"}) {
		t.Fatalf("handled %v", got)
	}
}

func TestUnknownCommand(t *testing.T) {
	b := newBus(t)
	err := b.Dispatch(context.Background(), "id", "test.ping", json.RawMessage(`{}`))
	ue, ok := errors.AsType[*bus.UnknownCommandError](err)
	if !ok || ue.Type != "test.ping" || ue.Kind() != problem.KindUnavailable {
		t.Fatalf("unregistered type: %v", err)
	}
	// Not permanent: another node (or this one, restarted) may handle it.
	if _, ok := err.(interface{ Permanent() bool }); ok {
		t.Fatal("an unknown command must stay retryable")
	}
}

func TestNewRefusesATypeDeclaredTwice(t *testing.T) {
	_, err := bus.New(fstest.MapFS{
		"test/Ping.json":  {Data: []byte(pingSchema)},
		"other/Ping.json": {Data: []byte(pingSchema)},
	})
	if err == nil || !strings.Contains(err.Error(), "declared by both") {
		t.Fatalf("type declared twice: %v", err)
	}
}

// The platform's schemas: the x-command-type ones are bus types, HTTP commands are not.
func TestPlatformCommandTypes(t *testing.T) {
	b, err := bus.New(schemas.CommandsFS())
	if err != nil {
		t.Fatal(err)
	}
	types := b.Types()
	if !slices.Contains(types, "vulns.record_sla_breach") || !slices.Contains(types, "scans.execute_run") ||
		!slices.Contains(types, "notifications.new_findings") {
		t.Fatalf("types %v", types)
	}
	for _, typ := range types {
		if !strings.Contains(typ, ".") {
			t.Fatalf("type %q", typ)
		}
	}
}
