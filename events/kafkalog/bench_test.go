package kafkalog

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/postgres"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/internal/memstore"
)

// The relay benchmark moves benchEvents pre-appended events from the SQLite store to the real
// broker; the baseline produces the very same records with raw franz-go and the same producer
// settings (ProducerOpts). Both run only when SOC_TEST_KAFKA_BROKERS is set.
const benchEvents = 50000

var benchContexts = []string{"assets", "vulns", "scans"}

var bench struct {
	once  sync.Once
	dir   string
	store *sqlite.Store
	evs   []events.Envelope
	err   error
}

var benchCleanups []func()

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range benchCleanups {
		f()
	}
	if bench.store != nil {
		bench.store.Close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// benchStore returns a SQLite store holding benchEvents events (appends of 100 over 500
// streams), created once per process, and the events as stored.
func benchStore(b *testing.B) (*sqlite.Store, []events.Envelope) {
	b.Helper()
	bench.once.Do(func() {
		if bench.dir, bench.err = os.MkdirTemp("", "soc-relay-bench-"); bench.err != nil {
			return
		}
		bench.store, bench.err = sqlite.Open(context.Background(), sqlite.Config{Path: bench.dir + "/events.db"})
		if bench.err != nil {
			return
		}
		seedBatches(b, bench.store, benchContexts, 500, benchEvents, 100)
		for after := int64(0); after < benchEvents; {
			page, err := bench.store.ReadAll(context.Background(), after, events.MaxReadLimit)
			if err != nil {
				bench.err = err
				return
			}
			bench.evs = append(bench.evs, page...)
			after = page[len(page)-1].GlobalPosition
		}
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.store, bench.evs
}

func benchRelayConfig(brokers []string, prefix string) RelayConfig {
	return RelayConfig{Brokers: brokers, TopicPrefix: prefix, Contexts: benchContexts, Name: prefix}
}

func createBenchTopics(b *testing.B, cfg RelayConfig) {
	b.Helper()
	cfg = cfg.WithDefaults()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	var topics []string
	for _, c := range cfg.Contexts {
		topics = append(topics, TopicName(cfg.TopicPrefix, c))
	}
	if err := EnsureTopics(context.Background(), kadm.NewClient(cl), cfg.Partitions, cfg.ReplicationFactor, cfg.TopicConfigs, topics...); err != nil {
		b.Fatal(err)
	}
}

// rawProduce produces the events with plain franz-go (same options as the relay), waiting for
// every acknowledgement, and returns the elapsed time.
func rawProduce(b *testing.B, brokers []string, evs []events.Envelope) time.Duration {
	b.Helper()
	prefix := uniquePrefix("raw")
	cfg := benchRelayConfig(brokers, prefix)
	createBenchTopics(b, cfg)
	defer deleteTopics(b, brokers, prefix)
	recs := make([]*kgo.Record, len(evs))
	for i := range evs {
		recs[i] = EncodeRecord(prefix, &evs[i])
	}
	start := time.Now()
	cl, err := kgo.NewClient(ProducerOpts(cfg)...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var perr error
	wg.Add(len(recs))
	for _, r := range recs {
		cl.Produce(context.Background(), r, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				perr = err
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if perr != nil {
		b.Fatal(perr)
	}
	return elapsed
}

type relayStore interface {
	events.EventStore
	Checkpoints
}

// relayOnce relays every event of store to fresh topics and returns the time until the last
// checkpoint was saved.
func relayOnce(b *testing.B, brokers []string, store relayStore, tweak func(*RelayConfig)) time.Duration {
	b.Helper()
	prefix := uniquePrefix("relay")
	cfg := benchRelayConfig(brokers, prefix)
	if tweak != nil {
		tweak(&cfg)
	}
	createBenchTopics(b, cfg)
	defer deleteTopics(b, brokers, prefix)
	r, err := NewRelay(cfg, store, store)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- r.Run(ctx) }()
	for r.Metrics().Checkpoint.Load() < benchEvents {
		select {
		case err := <-done:
			b.Fatalf("relay stopped: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return elapsed
}

// BenchmarkRawProduce is the baseline: franz-go producing the same 50,000 records.
func BenchmarkRawProduce(b *testing.B) {
	brokers := realBrokers(b)
	_, evs := benchStore(b)
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		total += rawProduce(b, brokers, evs)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchEvents)/total.Seconds(), "events/s")
}

var benchMem struct {
	once  sync.Once
	store *memstore.Store
}

// benchMemStore holds the same number of events in the in-memory test double: relaying from it
// shows the relay's own overhead, without the cost of reading a real store.
func benchMemStore(b *testing.B) *memstore.Store {
	benchMem.once.Do(func() {
		benchMem.store = memstore.New()
		seedBatches(b, benchMem.store, benchContexts, 500, benchEvents, 100)
	})
	return benchMem.store
}

var benchPG struct {
	once  sync.Once
	store *postgres.Store
	err   error
}

// benchPostgres holds the same number of events in the PostgreSQL adapter, on a schema of its
// own (dropped by TestMain); skipped without SOC_TEST_POSTGRES_URL.
func benchPostgres(b *testing.B) *postgres.Store {
	url := os.Getenv("SOC_TEST_POSTGRES_URL")
	if url == "" {
		b.Skip("SOC_TEST_POSTGRES_URL is not set")
	}
	benchPG.once.Do(func() {
		schema := fmt.Sprintf("t_kafkalog_bench_%d", time.Now().UnixNano())
		benchPG.store, benchPG.err = postgres.Open(context.Background(), postgres.Config{URL: url, Schema: schema})
		if benchPG.err != nil {
			return
		}
		benchCleanups = append(benchCleanups, func() {
			benchPG.store.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if conn, err := pgx.Connect(ctx, url); err == nil {
				_, _ = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
				conn.Close(ctx)
			}
		})
		seedBatches(b, benchPG.store, benchContexts, 500, benchEvents, 100)
	})
	if benchPG.err != nil {
		b.Fatal(benchPG.err)
	}
	return benchPG.store
}

// BenchmarkRelay relays 50,000 pre-appended events from the SQLite store to Kafka, and, in the
// same iteration (timer stopped), produces the same records raw: it reports both rates and
// their ratio (relay/raw).
func BenchmarkRelay(b *testing.B) {
	brokers := realBrokers(b)
	store, evs := benchStore(b)
	for _, bc := range []struct {
		name  string
		tweak func(*RelayConfig)
	}{
		{"default", nil}, // 1000 events per read, 8 batches in flight
		{"inflight-1", func(c *RelayConfig) { c.MaxInFlightBatches = 1 }},
		{"batch-5000", func(c *RelayConfig) { c.BatchSize = 5000 }},
		{"memstore", nil}, // from the in-memory test double: the relay's own overhead
		{"postgres", nil}, // from the PostgreSQL adapter (SOC_TEST_POSTGRES_URL)
	} {
		b.Run(bc.name, func(b *testing.B) {
			var from relayStore = store
			switch bc.name {
			case "memstore":
				from = benchMemStore(b)
			case "postgres":
				from = benchPostgres(b)
			}
			var relay, raw time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				raw += rawProduce(b, brokers, evs)
				b.StartTimer()
				relay += relayOnce(b, brokers, from, bc.tweak)
			}
			b.StopTimer()
			relayRate := float64(b.N*benchEvents) / relay.Seconds()
			rawRate := float64(b.N*benchEvents) / raw.Seconds()
			b.ReportMetric(relayRate, "events/s")
			b.ReportMetric(rawRate, "raw-events/s")
			b.ReportMetric(relayRate/rawRate, "relay/raw")
		})
	}
}

// BenchmarkEncodeRecord: the relay's per-event CPU cost besides the store read (no broker needed).
func BenchmarkEncodeRecord(b *testing.B) {
	e := storedEnvelope(3)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = EncodeRecord("soc", &e)
	}
}

// BenchmarkEncodeBatch: the same, through the relay's slab encoder (per event).
func BenchmarkEncodeBatch(b *testing.B) {
	batch := make([]events.Envelope, 1000)
	for i := range batch {
		batch[i] = storedEnvelope(i)
	}
	enc := newBatchEncoder("soc")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += len(batch) {
		_ = enc.encode(batch)
	}
}
