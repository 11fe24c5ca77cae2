package kafkalog

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/socplatform/soc/events"
)

// FuzzDecodeRecord: whatever headers and value a record carries (a foreign producer, a corrupted
// topic), decoding answers with an envelope that encodes back to the same record or with a
// *DecodeError; it never panics.
func FuzzDecodeRecord(f *testing.F) {
	good := EncodeRecord("soc", &events.Envelope{EventID: "01939b2e-0000-7000-8000-000000000001", StreamID: "assets-asset-01939b2e-0000-7000-8000-000000000002",
		StreamType: "assets-asset", Version: 3, GlobalPosition: 42, Type: "AssetRegistered", SchemaVersion: 1,
		OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), RecordedAt: time.Date(2026, 1, 2, 3, 4, 5, 7000, time.UTC),
		Actor: "user:a", Data: json.RawMessage(`{"name":"x"}`), Metadata: json.RawMessage(`{"k":1}`)})
	add := func(value []byte, hs ...kgo.RecordHeader) {
		var keys, vals []byte
		for _, h := range hs {
			keys = append(append(keys, h.Key...), 0)
			vals = append(append(vals, h.Value...), 0)
		}
		f.Add(value, keys, vals)
	}
	add(good.Value, good.Headers...)
	add([]byte(`{}`), kgo.RecordHeader{Key: HeaderVersion, Value: []byte("-1")})
	add([]byte(`not json`), kgo.RecordHeader{Key: HeaderOccurredAt, Value: []byte("yesterday")})
	add(nil)
	f.Fuzz(func(t *testing.T, value, keys, vals []byte) {
		r := &kgo.Record{Topic: "soc.assets.events", Value: value, Headers: splitHeaders(keys, vals)}
		e, err := DecodeRecord(r)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		again, err := DecodeRecord(EncodeRecord("soc", &e))
		if err != nil {
			t.Fatalf("a decoded envelope does not survive re-encoding: %v (%+v)", err, e)
		}
		if again.EventID != e.EventID || again.GlobalPosition != e.GlobalPosition || again.Version != e.Version || string(again.Data) != string(e.Data) {
			t.Fatalf("round trip changed the envelope:\n %+v\n %+v", e, again)
		}
	})
}

func splitHeaders(keys, vals []byte) []kgo.RecordHeader {
	var hs []kgo.RecordHeader
	for len(keys) > 0 {
		k, v := keys, vals
		if i := indexByte(keys, 0); i >= 0 {
			k, keys = keys[:i], keys[i+1:]
		} else {
			keys = nil
		}
		if i := indexByte(vals, 0); i >= 0 {
			v, vals = vals[:i], vals[i+1:]
		} else {
			vals = nil
		}
		hs = append(hs, kgo.RecordHeader{Key: string(k), Value: v})
	}
	return hs
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
