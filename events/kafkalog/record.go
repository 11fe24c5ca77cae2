package kafkalog

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/socplatform/soc/events"
)

// Header names: the envelope's JSON field names, so a record reads like the envelope.
const (
	HeaderEventID        = "event_id"
	HeaderStreamID       = "stream_id"
	HeaderStreamType     = "stream_type"
	HeaderVersion        = "version"
	HeaderGlobalPosition = "global_position"
	HeaderType           = "type"
	HeaderSchemaVersion  = "schema_version"
	HeaderOccurredAt     = "occurred_at"
	HeaderRecordedAt     = "recorded_at"
	HeaderCorrelationID  = "correlation_id"
	HeaderCausationID    = "causation_id"
	HeaderActor          = "actor"
	HeaderTenant         = "tenant"
	HeaderTraceParent    = "trace_parent"
	HeaderMetadata       = "metadata"
	HeaderContentType    = "content-type"
)

var contentTypeJSON = []byte("application/json")

// EncodeRecord turns an envelope into the record the relay produces: topic
// "<prefix>.<context>.events", key = stream id, value = data, every other field a header
// (optional fields only when set), timestamp = recorded_at.
func EncodeRecord(prefix string, e *events.Envelope) *kgo.Record {
	r := new(kgo.Record)
	appendRecord(r, make([]kgo.RecordHeader, 0, maxHeaders), make([]byte, 0, recordBytes(e)),
		TopicName(prefix, events.StreamContext(e.StreamID)), e)
	return r
}

const (
	maxHeaders = 16
	maxInt     = 20
	maxTime    = 40
)

// recordBytes bounds the bytes appendRecord puts in buf for e.
func recordBytes(e *events.Envelope) int {
	return len(e.StreamID)*2 + len(e.EventID) + len(e.StreamType) + len(e.Type) + 3*maxInt + 2*maxTime +
		len(e.CorrelationID) + len(e.CausationID) + len(e.Actor) + len(e.Tenant) + len(e.TraceParent)
}

// appendRecord fills r from e, taking its headers from the end of hdrs and its key and header
// values from the end of buf, and returns both extended. Callers size hdrs and buf for a whole
// batch so that a batch costs three allocations, not several per event. Every slice handed to
// the record has its capacity capped, so later appends never write into it.
func appendRecord(r *kgo.Record, hdrs []kgo.RecordHeader, buf []byte, topic string, e *events.Envelope) ([]kgo.RecordHeader, []byte) {
	h0 := len(hdrs)
	cut := func(k string, from int) {
		hdrs = append(hdrs, kgo.RecordHeader{Key: k, Value: buf[from:len(buf):len(buf)]})
	}
	str := func(k, v string) {
		from := len(buf)
		buf = append(buf, v...)
		cut(k, from)
	}
	opt := func(k, v string) {
		if v != "" {
			str(k, v)
		}
	}
	from := len(buf)
	buf = append(buf, e.StreamID...)
	key := buf[from:len(buf):len(buf)]
	str(HeaderEventID, e.EventID)
	str(HeaderStreamID, e.StreamID)
	str(HeaderStreamType, e.StreamType)
	from = len(buf)
	buf = strconv.AppendInt(buf, e.Version, 10)
	cut(HeaderVersion, from)
	from = len(buf)
	buf = strconv.AppendInt(buf, e.GlobalPosition, 10)
	cut(HeaderGlobalPosition, from)
	str(HeaderType, e.Type)
	from = len(buf)
	buf = strconv.AppendInt(buf, int64(e.SchemaVersion), 10)
	cut(HeaderSchemaVersion, from)
	from = len(buf)
	buf = e.OccurredAt.AppendFormat(buf, time.RFC3339Nano)
	cut(HeaderOccurredAt, from)
	from = len(buf)
	buf = e.RecordedAt.AppendFormat(buf, time.RFC3339Nano)
	cut(HeaderRecordedAt, from)
	opt(HeaderCorrelationID, e.CorrelationID)
	opt(HeaderCausationID, e.CausationID)
	opt(HeaderActor, e.Actor)
	opt(HeaderTenant, e.Tenant)
	opt(HeaderTraceParent, e.TraceParent)
	if len(e.Metadata) > 0 {
		hdrs = append(hdrs, kgo.RecordHeader{Key: HeaderMetadata, Value: e.Metadata})
	}
	hdrs = append(hdrs, kgo.RecordHeader{Key: HeaderContentType, Value: contentTypeJSON})
	*r = kgo.Record{
		Topic:     topic,
		Key:       key,
		Value:     e.Data,
		Headers:   hdrs[h0:len(hdrs):len(hdrs)],
		Timestamp: e.RecordedAt,
	}
	return hdrs, buf
}

// batchEncoder encodes whole store batches, remembering topic names per context.
type batchEncoder struct {
	prefix string
	topics map[string]string
}

func newBatchEncoder(prefix string) *batchEncoder {
	return &batchEncoder{prefix: prefix, topics: map[string]string{}}
}

func (b *batchEncoder) topic(streamID string) string {
	ctx := events.StreamContext(streamID)
	t, ok := b.topics[ctx]
	if !ok {
		t = TopicName(b.prefix, ctx)
		b.topics[ctx] = t
	}
	return t
}

// encode returns the records of batch, in order.
func (b *batchEncoder) encode(batch []events.Envelope) []*kgo.Record {
	size := 0
	for i := range batch {
		size += recordBytes(&batch[i])
	}
	recs := make([]kgo.Record, len(batch))
	ptrs := make([]*kgo.Record, len(batch))
	hdrs := make([]kgo.RecordHeader, 0, maxHeaders*len(batch))
	buf := make([]byte, 0, size)
	for i := range batch {
		hdrs, buf = appendRecord(&recs[i], hdrs, buf, b.topic(batch[i].StreamID), &batch[i])
		ptrs[i] = &recs[i]
	}
	return ptrs
}

// DecodeError is a record that is not an event written by the relay.
type DecodeError struct {
	Topic     string
	Partition int32
	Offset    int64
	Reason    string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("kafkalog: record %s/%d@%d is not an event: %s", e.Topic, e.Partition, e.Offset, e.Reason)
}

// DecodeRecord turns a record produced by the relay back into the envelope it came from.
func DecodeRecord(r *kgo.Record) (events.Envelope, error) {
	var e events.Envelope
	fail := func(format string, args ...any) (events.Envelope, error) {
		return events.Envelope{}, &DecodeError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Reason: fmt.Sprintf(format, args...)}
	}
	var seen uint32
	for _, h := range r.Headers {
		v := string(h.Value)
		var err error
		switch h.Key {
		case HeaderEventID:
			e.EventID, seen = v, seen|1
		case HeaderStreamID:
			e.StreamID, seen = v, seen|2
		case HeaderStreamType:
			e.StreamType = v
		case HeaderVersion:
			e.Version, err = strconv.ParseInt(v, 10, 64)
			seen |= 4
		case HeaderGlobalPosition:
			e.GlobalPosition, err = strconv.ParseInt(v, 10, 64)
			seen |= 8
		case HeaderType:
			e.Type, seen = v, seen|16
		case HeaderSchemaVersion:
			e.SchemaVersion, err = strconv.Atoi(v)
		case HeaderOccurredAt:
			e.OccurredAt, err = time.Parse(time.RFC3339Nano, v)
		case HeaderRecordedAt:
			e.RecordedAt, err = time.Parse(time.RFC3339Nano, v)
		case HeaderCorrelationID:
			e.CorrelationID = v
		case HeaderCausationID:
			e.CausationID = v
		case HeaderActor:
			e.Actor = v
		case HeaderTenant:
			e.Tenant = v
		case HeaderTraceParent:
			e.TraceParent = v
		case HeaderMetadata:
			if len(h.Value) > 0 {
				e.Metadata = json.RawMessage(h.Value)
			}
		}
		if err != nil {
			return fail("header %s: %v", h.Key, err)
		}
	}
	if seen != 31 {
		return fail("missing one of the headers event_id, stream_id, version, global_position, type")
	}
	if string(r.Key) != e.StreamID {
		return fail("key %q differs from stream_id %q", r.Key, e.StreamID)
	}
	if len(r.Value) > 0 {
		e.Data = json.RawMessage(r.Value)
	}
	return e, nil
}
