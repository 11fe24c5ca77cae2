package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/internal/memstore"
)

// TestGuardedQueryEventsUpcasts: QueryEvents results are upcast like ReadAll's.
func TestGuardedQueryEventsUpcasts(t *testing.T) {
	r := events.NewRegistry()
	schema := []byte(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}`)
	for v := 1; v <= 2; v++ {
		if err := r.Register("assets", "AssetRegistered", v, schema); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.RegisterUpcaster("AssetRegistered", 1, func(d json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{"upcast":true}`), nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	raw := memstore.New()
	stream := events.NewStreamID("assets", "asset")
	// Stored at v1 directly (as an older binary would have), read through the guard.
	if _, err := raw.Append(ctx, stream, events.NoStream, []events.Envelope{{EventID: events.NewEventID(), Type: "AssetRegistered",
		SchemaVersion: 1, Data: json.RawMessage(`{"old":true}`), Actor: "user:a"}}); err != nil {
		t.Fatal(err)
	}
	g := events.Guard(raw, r, events.Limits{})
	got, err := g.QueryEvents(ctx, events.EventQuery{Actor: "user:a"})
	if err != nil || len(got) != 1 || got[0].SchemaVersion != 2 || string(got[0].Data) != `{"upcast":true}` {
		t.Fatalf("QueryEvents through Guard: %+v, %v", got, err)
	}
}

func TestEventQueryNormalize(t *testing.T) {
	from := time.Date(2026, 1, 2, 3, 4, 5, 1500, time.UTC) // 1.5µs: rounds up to 2µs
	q, err := events.EventQuery{Types: []string{"A", "", "B", "A"}, From: from, Limit: events.MaxQueryLimit + 1}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Types) != 2 || q.Types[0] != "A" || q.Types[1] != "B" || q.Limit != events.MaxQueryLimit ||
		!q.From.Equal(from.Truncate(time.Microsecond).Add(time.Microsecond)) || !q.To.IsZero() {
		t.Fatalf("normalised %+v", q)
	}
	if q, _ := (events.EventQuery{Types: []string{""}}).Normalize(); len(q.Types) != 1 {
		t.Fatalf("a list of only empty type names must still match nothing: %+v", q.Types)
	}
	_, err = events.EventQuery{After: -1, Before: -2}.Normalize()
	var ie *events.InvalidEventError
	if !errors.As(err, &ie) || ie.Field() != "/after" || !strings.Contains(err.Error(), "before") {
		t.Fatalf("every problem is reported, each with its field: %v", err)
	}
}
