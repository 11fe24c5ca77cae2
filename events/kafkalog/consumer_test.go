package kafkalog

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
)

// produceEvents writes envelopes (already "stored": ids, versions, positions set) as the relay
// would, and returns them.
func produceEvents(t *testing.T, brokers []string, prefix string, evs []events.Envelope) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(evs))
	for i := range evs {
		recs[i] = EncodeRecord(prefix, &evs[i])
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// makeEvents returns n stored-looking events over streams in the given contexts, positions
// starting after from.
func makeEvents(contexts []string, streams, n int, from int64) []events.Envelope {
	ids := make([]string, streams)
	for i := range ids {
		ids[i] = events.NewStreamID(contexts[i%len(contexts)], "thing")
	}
	ver := map[string]int64{}
	out := make([]events.Envelope, n)
	for i := range out {
		e := fullEnvelope(i)
		e.StreamID = ids[i%streams]
		e.StreamType = events.StreamTypeOf(e.StreamID)
		ver[e.StreamID]++
		e.Version = ver[e.StreamID]
		e.GlobalPosition = from + int64(i) + 1
		e.RecordedAt = time.Now().UTC().Truncate(time.Millisecond)
		out[i] = e
	}
	return out
}

// sink is a handler that collects events, optionally failing, and cancels once it has want.
type sink struct {
	mu      sync.Mutex
	got     []events.Envelope
	batches int
	want    int
	cancel  context.CancelFunc
	failN   int // fail this many calls first
}

func (s *sink) handle(_ context.Context, batch []events.Envelope) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failN > 0 {
		s.failN--
		return errors.New("projection write failed")
	}
	s.got = append(s.got, batch...)
	s.batches++
	if s.want > 0 && len(s.got) >= s.want && s.cancel != nil {
		s.cancel()
	}
	return nil
}

func (s *sink) events() []events.Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]events.Envelope(nil), s.got...)
}

func consumerConfig(brokers []string, group string) ConsumerConfig {
	return ConsumerConfig{Brokers: brokers, Group: group, MaxPollRecords: 40, MetadataMaxAge: 200 * time.Millisecond}
}

// runConsumer runs c with s until s has want events (or timeout) and returns Run's result.
func runConsumer(t *testing.T, c *Consumer, s *sink, want int, timeout time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s.mu.Lock()
	s.want, s.cancel = want, cancel
	s.mu.Unlock()
	err := c.Run(ctx, s.handle)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("consumer timed out with %d of %d events", len(s.events()), want)
	}
	return err
}

func byPosition(evs []events.Envelope) []events.Envelope {
	out := append([]events.Envelope(nil), evs...)
	sort.Slice(out, func(i, j int) bool { return out[i].GlobalPosition < out[j].GlobalPosition })
	return out
}

// TestConsumerDeliversEnvelopesInStreamOrder: the consumer hands back exactly the envelopes that
// were relayed, each stream in version order.
func TestConsumerDeliversEnvelopesInStreamOrder(t *testing.T) {
	_, brokers := fakeKafka(t, kfakeSeed("soc.assets.events", "soc.vulns.events", "other.topic"))
	sent := makeEvents([]string{"assets", "vulns"}, 7, 200, 0)
	produceEvents(t, brokers, "soc", sent)
	c, err := NewConsumer(consumerConfig(brokers, "g1"))
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{}
	if err := runConsumer(t, c, s, len(sent), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	got := s.events()
	last := map[string]int64{}
	for _, e := range got {
		if e.Version != last[e.StreamID]+1 {
			t.Fatalf("stream %s: version %d after %d", e.StreamID, e.Version, last[e.StreamID])
		}
		last[e.StreamID] = e.Version
	}
	if !reflect.DeepEqual(byPosition(got), sent) {
		t.Fatal("delivered envelopes differ from the relayed ones")
	}
	if s.batches < 2 {
		t.Errorf("%d batches: MaxPollRecords was not applied", s.batches)
	}
	if m := c.Metrics(); m.Records.Load() != int64(len(sent)) || m.Commits.Load() == 0 || m.CommitErrors.Load() != 0 {
		t.Errorf("metrics: records %d commits %d commit errors %d", m.Records.Load(), m.Commits.Load(), m.CommitErrors.Load())
	}
}

// TestConsumerCommitsOnlyAfterSuccess: a batch whose handler failed is delivered again after a
// restart; a batch that succeeded is not.
func TestConsumerCommitsOnlyAfterSuccess(t *testing.T) {
	_, brokers := fakeKafka(t, kfakeSeed("soc.assets.events"))
	sent := makeEvents([]string{"assets"}, 3, 30, 0)
	produceEvents(t, brokers, "soc", sent)
	cfg := consumerConfig(brokers, "g-commit")
	cfg.MaxPollRecords = 1000

	c1, _ := NewConsumer(cfg)
	failing := &sink{failN: 1}
	err := runConsumer(t, c1, failing, 1, 30*time.Second)
	if err == nil || !strings.Contains(err.Error(), "projection write failed") {
		t.Fatalf("Run = %v, want the handler's error", err)
	}

	c2, _ := NewConsumer(cfg)
	ok := &sink{}
	if err := runConsumer(t, c2, ok, len(sent), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := byPosition(ok.events()); len(got) != len(sent) || got[0].GlobalPosition != 1 {
		t.Fatalf("after the failure, %d events redelivered starting at %d; want all %d from 1", len(got), got[0].GlobalPosition, len(sent))
	}

	more := makeEvents([]string{"assets"}, 1, 1, 30)
	produceEvents(t, brokers, "soc", more)
	c3, _ := NewConsumer(cfg)
	next := &sink{}
	if err := runConsumer(t, c3, next, 1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := next.events(); len(got) != 1 || got[0].GlobalPosition != 31 {
		t.Fatalf("after a committed run, got %d events (first at %d), want only position 31", len(got), got[0].GlobalPosition)
	}
}

// TestConsumerFilter: filtered-out events are not handed over but are committed.
func TestConsumerFilter(t *testing.T) {
	_, brokers := fakeKafka(t, kfakeSeed("soc.assets.events", "soc.vulns.events"))
	sent := makeEvents([]string{"assets", "vulns"}, 4, 40, 0)
	for i := range sent {
		if i%4 == 0 { // every other assets event
			sent[i].Type = "Wanted"
		}
	}
	produceEvents(t, brokers, "soc", sent)
	cfg := consumerConfig(brokers, "g-filter")
	cfg.Filter = eventlog.Filter{Contexts: []string{"assets"}, Types: []string{"Wanted"}}
	c, _ := NewConsumer(cfg)
	s := &sink{}
	if err := runConsumer(t, c, s, 10, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, e := range s.events() {
		if e.Type != "Wanted" || e.Context() != "assets" {
			t.Fatalf("filter let through %s %s", e.Context(), e.Type)
		}
	}
	if n := len(s.events()); n != 10 {
		t.Fatalf("%d events, want 10", n)
	}
}

// TestConsumerStartTime: a new group with StartTime starts at the first record recorded at or
// after it (replay from a time).
func TestConsumerStartTime(t *testing.T) {
	_, brokers := fakeKafka(t, kfakeSeed("soc.assets.events"))
	old := makeEvents([]string{"assets"}, 2, 10, 0)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range old {
		old[i].RecordedAt = t0.Add(time.Duration(i) * time.Minute)
	}
	produceEvents(t, brokers, "soc", old)
	cfg := consumerConfig(brokers, "g-time")
	cfg.StartTime = t0.Add(5 * time.Minute) // positions 6..10
	c, _ := NewConsumer(cfg)
	s := &sink{}
	if err := runConsumer(t, c, s, 5, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	got := byPosition(s.events())
	if len(got) != 5 || got[0].GlobalPosition != 6 {
		t.Fatalf("replay from a time delivered %d events from %d, want 5 from position 6", len(got), got[0].GlobalPosition)
	}
}

// TestConsumerStartLatest: a new group at the end sees only what is produced after it joined.
func TestConsumerStartLatest(t *testing.T) {
	_, brokers := fakeKafka(t, kfakeSeed("soc.assets.events"))
	produceEvents(t, brokers, "soc", makeEvents([]string{"assets"}, 1, 5, 0))
	cfg := consumerConfig(brokers, "g-latest")
	cfg.Start = StartLatest
	cfg.Topics = []string{"soc.assets.events"}
	c, _ := NewConsumer(cfg)
	s := &sink{}
	go func() {
		time.Sleep(time.Second) // after the group has joined and reset to the end
		produceEvents(t, brokers, "soc", makeEvents([]string{"assets"}, 1, 2, 5))
	}()
	if err := runConsumer(t, c, s, 2, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := byPosition(s.events()); got[0].GlobalPosition != 6 {
		t.Fatalf("latest: first delivered position %d, want 6", got[0].GlobalPosition)
	}
}

// TestConsumerInvalidRecord: a foreign record stops the consumer with a DecodeError, unless
// OnInvalidRecord parks it.
func TestConsumerInvalidRecord(t *testing.T) {
	_, brokers := fakeKafka(t, kfakeSeed("soc.assets.events"))
	cl, _ := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "soc.assets.events", Value: []byte("hello")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	produceEvents(t, brokers, "soc", makeEvents([]string{"assets"}, 1, 3, 0))

	c, _ := NewConsumer(consumerConfig(brokers, "g-invalid"))
	err := runConsumer(t, c, &sink{}, 100, 30*time.Second)
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("Run = %v, want *DecodeError", err)
	}

	cfg := consumerConfig(brokers, "g-invalid")
	var parked []*kgo.Record
	cfg.OnInvalidRecord = func(r *kgo.Record, err error) error { parked = append(parked, r); return nil }
	c2, _ := NewConsumer(cfg)
	s := &sink{}
	if err := runConsumer(t, c2, s, 3, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if len(parked) != 1 || string(parked[0].Value) != "hello" || c2.Metrics().Invalid.Load() != 1 {
		t.Fatalf("parked %d records", len(parked))
	}
}

// TestConsumerRebalanceLosesNothing: a second member joining mid-way takes over partitions;
// together they see every event, and each stream stays in order within each member.
func TestConsumerRebalanceLosesNothing(t *testing.T) {
	_, brokers := fakeKafka(t, kfakeSeed("soc.assets.events", "soc.vulns.events"))
	first := makeEvents([]string{"assets", "vulns"}, 12, 300, 0)
	produceEvents(t, brokers, "soc", first)
	cfg := consumerConfig(brokers, "g-rebalance")
	cfg.MaxPollRecords = 10
	cfg.ClientOpts = []kgo.Opt{kgo.HeartbeatInterval(100 * time.Millisecond)}

	var mu sync.Mutex
	seen := map[string]int64{} // stream → highest version applied (VersionGuard-style)
	applied := 0
	guard := eventlog.VersionGuard{Versions: eventlog.VersionsFunc(func(_ context.Context, id string) (int64, error) {
		return seen[id], nil
	})}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	total := 600
	handler := func(ctx context.Context, batch []events.Envelope) error {
		mu.Lock()
		defer mu.Unlock()
		fresh, err := guard.Filter(ctx, batch)
		if err != nil {
			return err
		}
		for _, e := range fresh {
			seen[e.StreamID] = e.Version
		}
		applied += len(fresh)
		if applied >= total {
			cancel()
		}
		time.Sleep(20 * time.Millisecond)
		return nil
	}
	errs := make(chan error, 2)
	a, _ := NewConsumer(cfg)
	go func() { errs <- a.Run(ctx, handler) }()
	waitFor(t, 30*time.Second, "first member to start", func() bool { return a.Metrics().Batches.Load() > 2 })
	b, _ := NewConsumer(cfg)
	go func() { errs <- b.Run(ctx, handler) }()
	produceEvents(t, brokers, "soc", makeEvents([]string{"assets", "vulns"}, 12, 300, 300))
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("member: %v", err)
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("timed out with %d of %d applied", applied, total)
	}
	if applied != total {
		t.Fatalf("applied %d, want %d", applied, total)
	}
	if a.Metrics().Batches.Load() == 0 || b.Metrics().Batches.Load() == 0 {
		t.Errorf("batches per member: %d and %d; the second member never got partitions", a.Metrics().Batches.Load(), b.Metrics().Batches.Load())
	}
}

func TestConsumerConfigValidate(t *testing.T) {
	err := ConsumerConfig{Topics: []string{"bad topic"}, Start: 7, MaxPollRecords: -1, MetadataMaxAge: time.Millisecond}.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"brokers", "group", "topics[0]", "start", "max_poll_records", "metadata_max_age"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	if err := (ConsumerConfig{Brokers: []string{"x:1"}, Group: "g"}).Validate(); err != nil {
		t.Errorf("minimal config refused: %v", err)
	}
	if _, err := NewConsumer(ConsumerConfig{}); err == nil {
		t.Error("NewConsumer accepted an empty config")
	}
}

func TestRelayConfigValidate(t *testing.T) {
	err := RelayConfig{TopicPrefix: "bad prefix", Contexts: []string{"a.b"}, Partitions: -1, ReplicationFactor: -1,
		BatchSize: events.MaxReadLimit + 1, MaxInFlightBatches: -1, MaxRecordBytes: 10, DrainTimeout: -1}.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"brokers", "topic_prefix", "contexts[0]", "partitions", "replication_factor", "batch_size", "max_in_flight_batches", "max_record_bytes", "drain_timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	d := RelayConfig{Brokers: []string{"x:1"}}.WithDefaults()
	if d.Partitions != 3 || d.ReplicationFactor != 1 || d.TopicPrefix != "soc" || d.Name != "kafka-relay" || *d.TopicConfigs["retention.ms"] != "-1" {
		t.Errorf("defaults: %+v", d)
	}
	if _, err := NewRelay(RelayConfig{}, nil, nil); err == nil || !strings.Contains(err.Error(), "event store") || !strings.Contains(err.Error(), "checkpoint") {
		t.Errorf("NewRelay with nothing: %v", err)
	}
}
