package kafkalog

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/internal/memstore"
)

func relayConfig(brokers []string, prefix string) RelayConfig {
	return RelayConfig{
		Brokers:         brokers,
		TopicPrefix:     prefix,
		Contexts:        []string{"assets", "vulns"},
		BatchSize:       50,
		MetricsInterval: 50 * time.Millisecond,
	}
}

// TestRelayPublishesInStoreOrder: every event lands once in its context's topic, keyed by stream
// id, with the envelope in its headers, in store order within each partition.
func TestRelayPublishesInStoreOrder(t *testing.T) {
	_, brokers := fakeKafka(t)
	store := memstore.New()
	seed(t, store, []string{"assets", "vulns", "scans"}, 4, 25) // 300 events; scans' topic is created on the fly
	head, _ := store.HeadPosition(context.Background())
	cps := newCheckpoints()
	r, err := NewRelay(relayConfig(brokers, "soc"), store, cps)
	if err != nil {
		t.Fatal(err)
	}
	stop := runRelay(t, r)
	waitFor(t, 30*time.Second, "checkpoint at head", func() bool { return cps.get("kafka-relay") == head })
	waitFor(t, 5*time.Second, "lag 0", func() bool { return r.Metrics().Lag() == 0 && r.Metrics().Head.Load() == head })
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := r.Metrics().EventsRelayed.Load(); got != head {
		t.Errorf("EventsRelayed = %d, want %d", got, head)
	}
	if got := r.Metrics().LastRelayed.Load(); got != head {
		t.Errorf("LastRelayed = %d, want %d", got, head)
	}

	recs := readTopics(t, brokers, "soc")
	if int64(len(recs)) != head {
		t.Fatalf("%d records in Kafka, want %d", len(recs), head)
	}
	stored, _ := store.ReadAll(context.Background(), 0, 1000)
	byID := map[string]events.Envelope{}
	for _, e := range stored {
		byID[e.EventID] = e
	}
	lastInPartition := map[string]int64{}
	partitionOfStream := map[string]int32{}
	for _, rec := range recs {
		e, err := DecodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		want, ok := byID[e.EventID]
		if !ok {
			t.Fatalf("unknown event %s", e.EventID)
		}
		delete(byID, e.EventID)
		if !equalEnvelope(e, want) {
			t.Fatalf("event differs after relay\n got %#v\nwant %#v", e, want)
		}
		if wantTopic := "soc." + events.StreamContext(e.StreamID) + ".events"; rec.Topic != wantTopic {
			t.Fatalf("event of %s in topic %s", e.StreamID, rec.Topic)
		}
		if p, seen := partitionOfStream[e.StreamID]; seen && p != rec.Partition {
			t.Fatalf("stream %s in partitions %d and %d", e.StreamID, p, rec.Partition)
		}
		partitionOfStream[e.StreamID] = rec.Partition
		key := rec.Topic + "/" + string(rune('0'+rec.Partition))
		if e.GlobalPosition <= lastInPartition[key] {
			t.Fatalf("partition %s: position %d after %d", key, e.GlobalPosition, lastInPartition[key])
		}
		lastInPartition[key] = e.GlobalPosition
	}
	if len(byID) != 0 {
		t.Fatalf("%d events never relayed", len(byID))
	}
}

func equalEnvelope(a, b events.Envelope) bool {
	return a.EventID == b.EventID && a.StreamID == b.StreamID && a.StreamType == b.StreamType &&
		a.Version == b.Version && a.GlobalPosition == b.GlobalPosition && a.Type == b.Type &&
		a.SchemaVersion == b.SchemaVersion && a.OccurredAt.Equal(b.OccurredAt) && a.RecordedAt.Equal(b.RecordedAt) &&
		a.CorrelationID == b.CorrelationID && a.CausationID == b.CausationID && a.Actor == b.Actor &&
		a.Tenant == b.Tenant && a.TraceParent == b.TraceParent && string(a.Data) == string(b.Data) &&
		string(a.Metadata) == string(b.Metadata)
}

// TestRelayRestartResumesFromCheckpoint: a stopped relay (drained) resumes where it left off,
// relaying live appends made while it ran and while it was down, without duplicates.
func TestRelayRestartResumesFromCheckpoint(t *testing.T) {
	_, brokers := fakeKafka(t)
	store := memstore.New()
	seed(t, store, []string{"assets", "vulns"}, 3, 20) // 120
	cps := newCheckpoints()
	r, err := NewRelay(relayConfig(brokers, "soc"), store, cps)
	if err != nil {
		t.Fatal(err)
	}
	stop := runRelay(t, r)
	waitFor(t, 30*time.Second, "first 120", func() bool { return cps.get("kafka-relay") == 120 })
	seed(t, store, []string{"assets"}, 2, 10) // 20 live appends
	waitFor(t, 30*time.Second, "live appends", func() bool { return cps.get("kafka-relay") == 140 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	seed(t, store, []string{"vulns"}, 3, 10) // 30 while down
	r2, _ := NewRelay(relayConfig(brokers, "soc"), store, cps)
	stop2 := runRelay(t, r2)
	waitFor(t, 30*time.Second, "after restart", func() bool { return cps.get("kafka-relay") == 170 })
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	assertExactlyPositions(t, positions(t, readTopics(t, brokers, "soc")), 170, 0, 0)
}

// assertExactlyPositions checks that positions 1..n all appear, and that only positions in
// (dupFrom, dupTo] appear more than once.
func assertExactlyPositions(t *testing.T, got []int64, n, dupFrom, dupTo int64) {
	t.Helper()
	count := map[int64]int{}
	for _, p := range got {
		count[p]++
	}
	for p := int64(1); p <= n; p++ {
		switch c := count[p]; {
		case c == 0:
			t.Fatalf("position %d lost", p)
		case c > 1 && (p <= dupFrom || p > dupTo):
			t.Fatalf("position %d published %d times, but it was checkpointed", p, c)
		}
		delete(count, p)
	}
	if len(count) > 0 {
		t.Fatalf("unexpected positions: %v", count)
	}
}

// TestRelayCrashBetweenProduceAndCheckpoint: when checkpoints stop being saved after Kafka has
// the events, the relay stops with an error; a restart re-publishes only what was not
// checkpointed, and nothing is lost.
func TestRelayCrashBetweenProduceAndCheckpoint(t *testing.T) {
	_, brokers := fakeKafka(t)
	store := memstore.New()
	seed(t, store, []string{"assets", "vulns"}, 5, 40) // 400
	cps := newCheckpoints()
	cps.failAfter = 1 // the first save succeeds, the next fails
	cfg := relayConfig(brokers, "soc")
	cfg.MaxInFlightBatches = 1
	r, _ := NewRelay(cfg, store, cps)
	err := r.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "checkpoint store unavailable") {
		t.Fatalf("Run = %v, want the checkpoint error", err)
	}
	saved := cps.get("kafka-relay")
	if saved == 0 || saved >= 400 || saved%50 != 0 {
		t.Fatalf("checkpoint %d, want the end of an early batch of 50", saved)
	}
	if r.Metrics().Errors.Load() != 1 {
		t.Errorf("Errors = %d", r.Metrics().Errors.Load())
	}
	published := positions(t, readTopics(t, brokers, "soc"))
	if len(published) <= int(saved) {
		t.Fatalf("only %d published: the failure should come after Kafka acknowledged", len(published))
	}
	cps.failAfter = 0
	r2, _ := NewRelay(cfg, store, cps)
	relayUntil(t, r2, cps, 400, "catch up after crash")
	assertExactlyPositions(t, positions(t, readTopics(t, brokers, "soc")), 400, saved, 400)
}

// holdProduce makes the fake cluster hold every produce request until release is closed, and
// reports the first one on started.
func holdProduce(c *kfake.Cluster) (started <-chan struct{}, release func()) {
	st := make(chan struct{})
	rel := make(chan struct{})
	var once, relOnce sync.Once
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		once.Do(func() { close(st) })
		c.SleepControl(func() { <-rel })
		return nil, nil, false
	})
	return st, func() { relOnce.Do(func() { close(rel) }) }
}

// heldRelay is a relay running over 300 seeded events in batches of 100 whose first produce
// Kafka holds until release: the shutdown tests cancel it with batches in flight.
type heldRelay struct {
	brokers []string
	store   *memstore.Store
	cps     *memCheckpoints
	cfg     RelayConfig
	release func()
	cancel  context.CancelFunc
	done    chan error // Run's result
}

// startHeldRelay starts the relay (abortOnCancel as given) and returns once its first produce
// is held.
func startHeldRelay(t *testing.T, abortOnCancel bool) *heldRelay {
	t.Helper()
	c, brokers := fakeKafka(t, kfakeSeed("soc.assets.events", "soc.vulns.events"))
	h := &heldRelay{brokers: brokers, store: memstore.New(), cps: newCheckpoints(), cfg: relayConfig(brokers, "soc"), done: make(chan error, 1)}
	seed(t, h.store, []string{"assets", "vulns"}, 5, 30) // 300
	h.cfg.BatchSize = 100
	r, _ := NewRelay(h.cfg, h.store, h.cps)
	r.abortOnCancel = abortOnCancel
	started, release := holdProduce(c)
	h.release = release
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- r.Run(ctx) }()
	<-started
	return h
}

// TestRelayDrainsOnShutdown: batches handed to Kafka when ctx is cancelled are awaited and
// checkpointed before Run returns.
func TestRelayDrainsOnShutdown(t *testing.T) {
	h := startHeldRelay(t, false)
	brokers, cps, release, cancel, done := h.brokers, h.cps, h.release, h.cancel, h.done
	time.Sleep(100 * time.Millisecond) // let the reader hand over the remaining batches
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while its batches were still in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	if cps.get("kafka-relay") != 0 {
		t.Fatal("checkpoint saved before Kafka acknowledged")
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	// All three batches were handed over while the first produce was held (the reader does not
	// wait for acknowledgements), and the drain saw every one of them through.
	saved := cps.get("kafka-relay")
	if saved != 300 {
		t.Fatalf("checkpoint after drain = %d, want 300", saved)
	}
	assertExactlyPositions(t, positions(t, readTopics(t, brokers, "soc")), saved, 0, 0)
}

// TestRelayAbortWithoutDrain: the crash hook abandons in-flight batches: no checkpoint for
// them, and a restart publishes them (again, possibly), losing nothing.
func TestRelayAbortWithoutDrain(t *testing.T) {
	h := startHeldRelay(t, true)
	brokers, store, cps, cfg, release, done := h.brokers, h.store, h.cps, h.cfg, h.release, h.done
	h.cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("an aborted relay did not return")
	}
	release()
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := cps.get("kafka-relay"); got != 0 {
		t.Fatalf("aborted relay checkpointed %d", got)
	}
	r2, _ := NewRelay(cfg, store, cps)
	relayUntil(t, r2, cps, 300, "catch up after abort")
	assertExactlyPositions(t, positions(t, readTopics(t, brokers, "soc")), 300, 0, 300)
}

// TestRelayStopsOnRefusedEvent: an event Kafka refuses stops the relay with a PublishError
// naming it; the checkpoint stays before it.
func TestRelayStopsOnRefusedEvent(t *testing.T) {
	_, brokers := fakeKafka(t)
	store := memstore.New()
	seed(t, store, []string{"assets"}, 2, 5) // 10
	big := fullEnvelope(0)
	big.Data = []byte(`{"blob":"` + strings.Repeat("x", 4096) + `"}`)
	id := events.NewStreamID("assets", "thing")
	if _, err := store.Append(context.Background(), id, events.NoStream, []events.Envelope{big}); err != nil {
		t.Fatal(err)
	}
	seed(t, store, []string{"assets"}, 1, 5)
	cps := newCheckpoints()
	cfg := relayConfig(brokers, "soc")
	cfg.MaxRecordBytes = 2048
	r, _ := NewRelay(cfg, store, cps)
	err := r.Run(context.Background())
	var pe *PublishError
	if !errors.As(err, &pe) || pe.GlobalPosition != 11 || pe.StreamID != id {
		t.Fatalf("Run = %v, want a PublishError for position 11", err)
	}
	if got := cps.get("kafka-relay"); got != 0 {
		t.Fatalf("checkpoint %d moved past a batch with a refused event", got)
	}
}

func TestRelayRefusesSecondRun(t *testing.T) {
	_, brokers := fakeKafka(t)
	r, _ := NewRelay(relayConfig(brokers, "soc"), memstore.New(), newCheckpoints())
	stop := runRelay(t, r)
	waitFor(t, 10*time.Second, "running", func() bool { return r.running.Load() })
	if err := r.Run(context.Background()); err == nil {
		t.Fatal("a second concurrent Run was accepted")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestRelayCheckpointsInOrder: with several batches in flight, checkpoints still advance in
// order and only ever land on batch boundaries.
func TestRelayCheckpointsInOrder(t *testing.T) {
	_, brokers := fakeKafka(t, kfakeSeed("soc.assets.events", "soc.vulns.events"))
	store := memstore.New()
	seed(t, store, []string{"assets", "vulns"}, 10, 50) // 1000
	cps := newCheckpoints()
	cfg := relayConfig(brokers, "soc")
	cfg.BatchSize = 100
	r, _ := NewRelay(cfg, store, cps)
	relayUntil(t, r, cps, 1000, "all relayed")
	cps.mu.Lock()
	saves := append([]int64(nil), cps.saves...)
	cps.mu.Unlock()
	for i := range saves {
		if (i > 0 && saves[i] <= saves[i-1]) || saves[i]%100 != 0 {
			t.Fatalf("checkpoints out of order or mid-batch: %v", saves)
		}
	}
	if got := r.Metrics().Batches.Load(); got != 10 {
		t.Errorf("Batches = %d, want 10", got)
	}
}

// TestRelayDrainTimeout: when Kafka never answers, shutdown gives up after DrainTimeout,
// checkpoints nothing it was not told about, and returns nil.
func TestRelayDrainTimeout(t *testing.T) {
	c, brokers := fakeKafka(t, kfakeSeed("soc.assets.events", "soc.vulns.events"))
	store := memstore.New()
	seed(t, store, []string{"assets", "vulns"}, 5, 30)
	cps := newCheckpoints()
	cfg := relayConfig(brokers, "soc")
	cfg.DrainTimeout = 300 * time.Millisecond
	r, _ := NewRelay(cfg, store, cps)
	started, release := holdProduce(c)
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-started
	cancel()
	begin := time.Now()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not give up draining")
	}
	if waited := time.Since(begin); waited < 250*time.Millisecond {
		t.Errorf("gave up after %v, before the drain timeout", waited)
	}
	if got := cps.get("kafka-relay"); got != 0 {
		t.Fatalf("checkpoint %d saved for unacknowledged batches", got)
	}
}
