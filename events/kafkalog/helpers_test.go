package kafkalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventstest"
)

// realBrokers returns the address of the real Kafka broker for integration tests and
// benchmarks: SOC_TEST_KAFKA_BROKERS (comma-separated). Without it the test is skipped, unless
// SOC_REQUIRE_SERVERS=1 (CI), where a missing server is a failure.
func realBrokers(tb testing.TB) []string {
	tb.Helper()
	return strings.Split(eventstest.ServerEnv(tb, "SOC_TEST_KAFKA_BROKERS", "deploy/dev/kafka.sh starts one"), ",")
}

// fakeKafka starts an in-process kfake cluster (unit tests only).
func fakeKafka(t *testing.T, opts ...kfake.Opt) (*kfake.Cluster, []string) {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, c.ListenAddrs()
}

// uniquePrefix returns a topic prefix (and group name stem) no other test run uses.
func uniquePrefix(name string) string {
	return fmt.Sprintf("soctest%s%d", strings.ToLower(name), time.Now().UnixNano())
}

// memCheckpoints is an in-memory Checkpoints for tests, recording every save; failAfter > 0
// makes saves fail once that many have succeeded (a crash between produce and checkpoint).
type memCheckpoints struct {
	mu        sync.Mutex
	pos       map[string]int64
	saves     []int64
	failAfter int
}

func newCheckpoints() *memCheckpoints { return &memCheckpoints{pos: map[string]int64{}} }

func (c *memCheckpoints) LoadCheckpoint(_ context.Context, name string) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos[name], nil
}

func (c *memCheckpoints) SaveCheckpoint(_ context.Context, name string, pos int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failAfter > 0 && len(c.saves) >= c.failAfter {
		return errors.New("checkpoint store unavailable")
	}
	if pos < c.pos[name] {
		return fmt.Errorf("checkpoint went backwards: %d after %d", pos, c.pos[name])
	}
	c.pos[name] = pos
	c.saves = append(c.saves, pos)
	return nil
}

func (c *memCheckpoints) get(name string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos[name]
}

// fullEnvelope returns an event with every optional envelope field set.
func fullEnvelope(i int) events.Envelope {
	return events.Envelope{
		EventID:       events.NewEventID(),
		Type:          "ThingHappened",
		SchemaVersion: 1 + i%3,
		OccurredAt:    time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC).Add(time.Duration(i) * time.Millisecond),
		CorrelationID: fmt.Sprintf("corr-%d", i),
		CausationID:   fmt.Sprintf("cause-%d", i),
		Actor:         "user:alice",
		Tenant:        "tenant-1",
		TraceParent:   "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		Data:          json.RawMessage(fmt.Sprintf(`{"i":%d,"name":"thing \"%d\""}`, i, i)),
		Metadata:      json.RawMessage(`{"source":"test","ip":"127.0.0.1"}`),
	}
}

// seed appends perStream events to each of the streams, round-robin, so that global order
// interleaves streams and contexts. It returns the stream ids.
func seed(t testing.TB, s events.EventStore, contexts []string, streamsPerContext, perStream int) []string {
	t.Helper()
	var ids []string
	for _, c := range contexts {
		for i := 0; i < streamsPerContext; i++ {
			ids = append(ids, events.NewStreamID(c, "thing"))
		}
	}
	n := 0
	for v := 0; v < perStream; v++ {
		for _, id := range ids {
			e := fullEnvelope(n)
			n++
			if _, err := s.Append(context.Background(), id, events.Exact(int64(v)), []events.Envelope{e}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids
}

// seedBatches appends n events in appends of batch events each, over streams in round-robin.
func seedBatches(t testing.TB, s events.EventStore, contexts []string, streams, n, batch int) {
	t.Helper()
	ids := make([]string, streams)
	for i := range ids {
		ids[i] = events.NewStreamID(contexts[i%len(contexts)], "thing")
	}
	for done, k := 0, 0; done < n; k++ {
		m := min(batch, n-done)
		evs := make([]events.Envelope, m)
		for i := range evs {
			evs[i] = fullEnvelope(done + i)
		}
		if _, err := s.Append(context.Background(), ids[k%streams], events.Any, evs); err != nil {
			t.Fatal(err)
		}
		done += m
	}
}

// readTopics reads every record currently in the topics under prefix, from the start to the
// end offsets listed when it was called.
func readTopics(t testing.TB, brokers []string, prefix string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	all, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var topics []string
	for _, name := range all.Names() {
		if strings.HasPrefix(name, prefix+".") {
			topics = append(topics, name)
		}
	}
	if len(topics) == 0 {
		return nil
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[int32]int64{}
	total := int64(0)
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			if want[o.Topic] == nil {
				want[o.Topic] = map[int32]int64{}
			}
			want[o.Topic][o.Partition] = o.Offset
			total += o.Offset
		}
	})
	if total == 0 {
		return nil
	}
	rd, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var out []*kgo.Record
	for int64(len(out)) < total {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records before timing out", len(out), total)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < want[r.Topic][r.Partition] {
				out = append(out, r)
			}
		})
	}
	return out
}

// runRelay runs r in the background; stop cancels it and returns Run's result.
func runRelay(t testing.TB, r *Relay) (stop func() error) {
	t.Helper()
	return eventstest.Start(t, context.Background(), r.Run)
}

// relayUntil runs r until its checkpoint in cps reaches pos (what names the wait), then stops
// it, failing t when Run fails.
func relayUntil(t testing.TB, r *Relay, cps *memCheckpoints, pos int64, what string) {
	t.Helper()
	stop := runRelay(t, r)
	waitFor(t, 30*time.Second, what, func() bool { return cps.get("kafka-relay") == pos })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// positions returns the global positions of records (decoded), sorted.
func positions(t testing.TB, recs []*kgo.Record) []int64 {
	t.Helper()
	out := make([]int64, 0, len(recs))
	for _, r := range recs {
		e, err := DecodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.GlobalPosition)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// kfakeSeed creates topics of 3 partitions in the fake cluster.
func kfakeSeed(topics ...string) kfake.Opt { return kfake.SeedTopics(3, topics...) }
