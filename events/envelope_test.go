package events_test

import (
	"encoding/json"
	"testing"

	"github.com/socplatform/soc/events"
)

// TestOnPayload: the payload reaches fn decoded; data that does not decode into the type is the
// error, and fn is not called with a half-decoded value.
func TestOnPayload(t *testing.T) {
	type payload struct {
		Owner string `json:"owner"`
	}
	var got payload
	if err := events.OnPayload(json.RawMessage(`{"owner":"team-a"}`), func(d payload) { got = d }); err != nil || got.Owner != "team-a" {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	for _, data := range []string{`{"owner":`, `{"owner":1}`} {
		called := false
		if err := events.OnPayload(json.RawMessage(data), func(payload) { called = true }); called || err == nil {
			t.Errorf("%s: called %v, err %v", data, called, err)
		}
	}
}
