package kafkalog

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/socplatform/soc/events"
)

func storedEnvelope(i int) events.Envelope {
	e := fullEnvelope(i)
	e.StreamID = "assets-asset-0190a3f2-7b1c-7d3e-8f00-123456789abc"
	e.StreamType = "assets-asset"
	e.Version = int64(i + 1)
	e.GlobalPosition = int64(1000 + i)
	e.RecordedAt = time.Date(2025, 3, 1, 12, 0, 1, 987654321, time.UTC)
	return e
}

func TestEncodeRecordLayout(t *testing.T) {
	e := storedEnvelope(0)
	r := EncodeRecord("soc", &e)
	if r.Topic != "soc.assets.events" {
		t.Errorf("topic %q", r.Topic)
	}
	if string(r.Key) != e.StreamID {
		t.Errorf("key %q", r.Key)
	}
	if string(r.Value) != string(e.Data) {
		t.Errorf("value %q", r.Value)
	}
	if !r.Timestamp.Equal(e.RecordedAt) {
		t.Errorf("timestamp %v, want recorded_at %v", r.Timestamp, e.RecordedAt)
	}
	h := map[string]string{}
	for _, x := range r.Headers {
		if _, dup := h[x.Key]; dup {
			t.Errorf("header %s twice", x.Key)
		}
		h[x.Key] = string(x.Value)
	}
	want := map[string]string{
		"event_id": e.EventID, "stream_id": e.StreamID, "stream_type": "assets-asset", "version": "1",
		"global_position": "1000", "type": "ThingHappened", "schema_version": "1",
		"occurred_at": "2025-03-01T12:00:00.123456789Z", "recorded_at": "2025-03-01T12:00:01.987654321Z",
		"correlation_id": "corr-0", "causation_id": "cause-0", "actor": "user:alice", "tenant": "tenant-1",
		"trace_parent": e.TraceParent, "metadata": string(e.Metadata), "content-type": "application/json",
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("headers\n got %v\nwant %v", h, want)
	}
}

func TestRecordRoundTripInMemory(t *testing.T) {
	full := storedEnvelope(7)
	minimal := events.Envelope{EventID: "e", StreamID: "vulns-finding-x", Version: 3, GlobalPosition: 9, Type: "FindingOpened", Data: []byte(`{}`)}
	local := storedEnvelope(2)
	local.OccurredAt = time.Date(2025, 1, 2, 3, 4, 5, 6, time.FixedZone("", 2*3600))
	for name, e := range map[string]events.Envelope{"full": full, "minimal": minimal, "offset": local} {
		got, err := DecodeRecord(EncodeRecord("soc", &e))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "offset" {
			if !got.OccurredAt.Equal(e.OccurredAt) || got.OccurredAt.Format(time.RFC3339Nano) != e.OccurredAt.Format(time.RFC3339Nano) {
				t.Fatalf("offset time %v, want %v", got.OccurredAt, e.OccurredAt)
			}
			got.OccurredAt = e.OccurredAt
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("%s round trip\n got %#v\nwant %#v", name, got, e)
		}
	}
}

// TestRecordRoundTripThroughKafka: every envelope field survives produce and fetch unchanged.
func TestRecordRoundTripThroughKafka(t *testing.T) {
	_, brokers := fakeKafka(t, kfakeSeed("soc.assets.events"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics("soc.assets.events"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var sent []events.Envelope
	for i := 0; i < 20; i++ {
		e := storedEnvelope(i)
		if i%4 == 0 { // optional fields unset
			e.CorrelationID, e.CausationID, e.Actor, e.Tenant, e.TraceParent, e.Metadata = "", "", "", "", "", nil
		}
		sent = append(sent, e)
		if err := cl.ProduceSync(ctx, EncodeRecord("soc", &e)).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var got []events.Envelope
	for len(got) < len(sent) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("timed out")
		}
		fs.EachRecord(func(r *kgo.Record) {
			e, err := DecodeRecord(r)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e)
		})
	}
	if !reflect.DeepEqual(got, sent) {
		for i := range sent {
			if !reflect.DeepEqual(got[i], sent[i]) {
				t.Fatalf("event %d\n got %#v\nwant %#v", i, got[i], sent[i])
			}
		}
	}
}

func TestDecodeRecordRefusesForeignRecords(t *testing.T) {
	e := storedEnvelope(1)
	good := EncodeRecord("soc", &e)
	cases := map[string]func(r *kgo.Record){
		"no headers":      func(r *kgo.Record) { r.Headers = nil },
		"bad version":     func(r *kgo.Record) { setHeader(r, HeaderVersion, "three") },
		"bad position":    func(r *kgo.Record) { setHeader(r, HeaderGlobalPosition, "") },
		"bad occurred_at": func(r *kgo.Record) { setHeader(r, HeaderOccurredAt, "yesterday") },
		"key mismatch":    func(r *kgo.Record) { r.Key = []byte("other") },
		"no type":         func(r *kgo.Record) { dropHeader(r, HeaderType) },
	}
	for name, mutate := range cases {
		r := *good
		r.Headers = append([]kgo.RecordHeader(nil), good.Headers...)
		r.Topic, r.Partition, r.Offset = "soc.assets.events", 2, 41
		mutate(&r)
		_, err := DecodeRecord(&r)
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Errorf("%s: err = %v, want *DecodeError", name, err)
			continue
		}
		if !strings.Contains(err.Error(), "soc.assets.events/2@41") {
			t.Errorf("%s: error %q does not locate the record", name, err)
		}
	}
}

func setHeader(r *kgo.Record, k, v string) {
	for i := range r.Headers {
		if r.Headers[i].Key == k {
			r.Headers[i].Value = []byte(v)
		}
	}
}

func dropHeader(r *kgo.Record, k string) {
	out := r.Headers[:0]
	for _, h := range r.Headers {
		if h.Key != k {
			out = append(out, h)
		}
	}
	r.Headers = out
}

func TestTopicNames(t *testing.T) {
	if got := TopicName("soc", events.StreamContext("vulns-finding-1")); got != "soc.vulns.events" {
		t.Errorf("got %q", got)
	}
	if got := TopicName("soc", "bad context!"); got != "soc.invalid.events" {
		t.Errorf("got %q", got)
	}
	if got := TopicRegex("soc"); got != `^soc\.[^.]+\.events$` {
		t.Errorf("regex %q", got)
	}
}

// TestBatchEncoderMatchesEncodeRecord: the slab encoder produces the same records, and no
// record's slices overlap another's.
func TestBatchEncoderMatchesEncodeRecord(t *testing.T) {
	var batch []events.Envelope
	for i := 0; i < 50; i++ {
		e := storedEnvelope(i)
		if i%3 == 0 {
			e.StreamID = "vulns-finding-0190a3f2-7b1c-7d3e-8f00-123456789abc"
			e.Metadata, e.Actor = nil, ""
		}
		batch = append(batch, e)
	}
	recs := newBatchEncoder("p").encode(batch)
	for i := range batch {
		want := EncodeRecord("p", &batch[i])
		if !reflect.DeepEqual(recs[i], want) {
			t.Fatalf("record %d\n got %#v\nwant %#v", i, recs[i], want)
		}
		if cap(recs[i].Key) != len(recs[i].Key) || cap(recs[i].Headers) != len(recs[i].Headers) {
			t.Fatalf("record %d: slices not capped", i)
		}
		got, err := DecodeRecord(recs[i])
		if err != nil || !reflect.DeepEqual(got, batch[i]) {
			t.Fatalf("record %d does not decode back: %v", i, err)
		}
	}
}
