package kafkalog

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/postgres"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/events/eventstest"
)

// openSQLite opens a fresh SQLite store (the embedded adapter, which also keeps checkpoints).
func openSQLite(tb testing.TB, dir string) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(dir, "events.db"), Synchronous: "NORMAL"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// deleteTopics removes the topics under prefix from the real broker.
func deleteTopics(tb testing.TB, brokers []string, prefix string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		tb.Log(err)
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	all, err := adm.ListTopics(ctx)
	if err != nil {
		tb.Log(err)
		return
	}
	var mine []string
	for _, n := range all.Names() {
		if strings.HasPrefix(n, prefix+".") {
			mine = append(mine, n)
		}
	}
	if len(mine) > 0 {
		if _, err := adm.DeleteTopics(ctx, mine...); err != nil {
			tb.Logf("deleting topics: %v", err)
		}
	}
}

// crashAt simulates a relay process dying right after Kafka acknowledged the event at position
// at: it cancels the relay (which, with abortOnCancel, abandons its in-flight records) and, as a
// dead process would, refuses every checkpoint save from then on. Kafka then holds events
// beyond the checkpoint, which the next relay publishes again.
type crashAt struct {
	Checkpoints
	at     int64
	cancel context.CancelFunc
	dead   atomic.Bool
}

func (c *crashAt) OnProduceRecordUnbuffered(r *kgo.Record, err error) {
	if err != nil || c.dead.Load() {
		return
	}
	for _, h := range r.Headers {
		if h.Key == HeaderGlobalPosition {
			if p, _ := strconv.ParseInt(string(h.Value), 10, 64); p >= c.at {
				c.dead.Store(true)
				c.cancel()
			}
		}
	}
}

func (c *crashAt) SaveCheckpoint(ctx context.Context, name string, pos int64) error {
	if c.dead.Load() {
		return errors.New("relay process crashed")
	}
	return c.Checkpoints.SaveCheckpoint(ctx, name, pos)
}

// TestIntegrationRealKafka: 5,000 events from the SQLite store through a real broker to a
// consumer group. The first relay is killed mid-way without draining; the second resumes from
// the checkpoint. After per-stream dedupe every event is applied exactly once, in stream order.
func TestIntegrationRealKafka(t *testing.T) {
	brokers := realBrokers(t)
	t.Run("sqlite", func(t *testing.T) { testRelayThroughKafka(t, brokers, openSQLite(t, t.TempDir())) })
	t.Run("postgres", func(t *testing.T) { testRelayThroughKafka(t, brokers, openPostgres(t)) })
}

// openPostgres opens the PostgreSQL adapter on a fresh schema of SOC_TEST_POSTGRES_URL (skipped
// when unset, unless SOC_REQUIRE_SERVERS=1), dropped when the test ends.
func openPostgres(t *testing.T) *postgres.Store {
	url := eventstest.PostgresURL(t)
	schema := eventstest.FreshSchema(t, url, "t_kafkalog_")
	s, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testRelayThroughKafka(t *testing.T, brokers []string, store relayStore) {
	const total = 5000
	prefix := uniquePrefix("it")
	t.Cleanup(func() { deleteTopics(t, brokers, prefix) })
	seedBatches(t, store, []string{"assets", "vulns", "scans"}, 150, total, 10)

	cfg := RelayConfig{Brokers: brokers, TopicPrefix: prefix, Contexts: []string{"assets", "vulns", "scans"}, BatchSize: 200, MetricsInterval: 100 * time.Millisecond}

	// The consumer group runs throughout, applying through a VersionGuard like a projection.
	var mu sync.Mutex
	applied := map[string]int64{} // stream → last applied version
	seenPos := map[int64]bool{}
	delivered := 0
	guard := eventlog.VersionGuard{Versions: eventlog.VersionsFunc(func(_ context.Context, id string) (int64, error) {
		return applied[id], nil
	})}
	cctx, stopConsumer := context.WithTimeout(context.Background(), 3*time.Minute)
	defer stopConsumer()
	consumer, err := NewConsumer(ConsumerConfig{Brokers: brokers, Group: prefix + "-group", TopicPrefix: prefix, MetadataMaxAge: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	consumed := make(chan error, 1)
	go func() {
		consumed <- consumer.Run(cctx, func(ctx context.Context, batch []events.Envelope) error {
			mu.Lock()
			defer mu.Unlock()
			delivered += len(batch)
			fresh, err := guard.Filter(ctx, batch) // a *GapError here means lost or reordered events
			if err != nil {
				return err
			}
			for _, e := range fresh {
				applied[e.StreamID] = e.Version
				seenPos[e.GlobalPosition] = true
			}
			if len(seenPos) == total {
				stopConsumer()
			}
			return nil
		})
	}()

	// Relay 1 crashes right after Kafka acknowledged position 2,500 (mid-batch), with batches
	// in flight and without saving another checkpoint.
	rctx, kill := context.WithCancel(context.Background())
	crash := &crashAt{Checkpoints: store, at: 2500, cancel: kill}
	cfg1 := cfg
	cfg1.ClientOpts = []kgo.Opt{kgo.WithHooks(crash)}
	r1, err := NewRelay(cfg1, store, crash)
	if err != nil {
		t.Fatal(err)
	}
	r1.abortOnCancel = true
	err = r1.Run(rctx)
	if !crash.dead.Load() {
		t.Fatalf("relay 1 ended (%v) without crashing", err)
	}
	cp1, _ := store.LoadCheckpoint(context.Background(), "kafka-relay")
	if cp1 >= 2500 {
		t.Fatalf("relay 1 checkpoint %d: saved after the crash", cp1)
	}
	t.Logf("relay 1 crashed at checkpoint %d (Run: %v)", cp1, err)

	// Relay 2 resumes from the checkpoint and drains on stop.
	r2, _ := NewRelay(cfg, store, store)
	stop := runRelay(t, r2)
	waitFor(t, 2*time.Minute, "relay 2 to reach the head", func() bool { return r2.Metrics().Checkpoint.Load() == total })
	if err := stop(); err != nil {
		t.Fatalf("relay 2: %v", err)
	}

	if err := <-consumed; err != nil {
		t.Fatalf("consumer: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seenPos) != total {
		t.Fatalf("applied %d distinct events, want %d", len(seenPos), total)
	}
	for p := int64(1); p <= total; p++ {
		if !seenPos[p] {
			t.Fatalf("position %d never applied", p)
		}
	}
	published := len(readTopics(t, brokers, prefix))
	t.Logf("published %d records for %d events (%d re-published after the kill); consumer got %d deliveries",
		published, total, published-total, delivered)
	if published <= total {
		t.Fatalf("%d records in Kafka: the crash should have left acknowledged events beyond the checkpoint", published)
	}
}
