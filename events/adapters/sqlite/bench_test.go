package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/storetest"
)

// Benchmarks come in pairs: Benchmark<Name> measures the store, BenchmarkRaw… writes the
// same rows into an equivalent table (same columns and unique indexes, same file settings, one
// write connection) with plain INSERTs and no store logic. `make bench` prints them side by side.

func benchPayload(i int) json.RawMessage {
	d, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("thing number %d with a realistic-length title", i), "n": i})
	return d
}

func benchStore(b *testing.B) *events.Guarded {
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(b.TempDir(), "events.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return events.Guard(s, storetest.Registry(), events.Limits{})
}

func BenchmarkAppendSingle(b *testing.B) {
	g := benchStore(b)
	ctx := context.Background()
	stream := storetest.StreamID()
	storetest.BenchSingle(b, func(i int) error {
		_, err := g.Append(ctx, stream, events.Exact(int64(i)), []events.Envelope{{Type: "ThingCreated", Data: benchPayload(i)}})
		return err
	})
}

func BenchmarkAppendBatch8x100(b *testing.B) {
	g := benchStore(b)
	runBatches(b, func(w, i int, batch []events.Envelope, stream string) error {
		_, err := g.Append(context.Background(), stream, events.Exact(int64(i*100)), batch)
		return err
	})
}

// runBatches spreads b.N batches of 100 events over 8 writers, each with its own stream.
func runBatches(b *testing.B, write func(w, i int, batch []events.Envelope, stream string) error) {
	const writers, size = 8, 100
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < writers; w++ {
		n := b.N / writers
		if w < b.N%writers {
			n++
		}
		wg.Add(1)
		go func(w, n int) {
			defer wg.Done()
			stream := storetest.StreamID()
			for i := 0; i < n; i++ {
				batch := make([]events.Envelope, size)
				for j := range batch {
					batch[j] = events.Envelope{Type: "ThingCreated", Data: benchPayload(i*size + j)}
				}
				if err := write(w, i, batch, stream); err != nil {
					errc <- err
					return
				}
			}
		}(w, n)
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*size)/time.Since(start).Seconds(), "events/s")
}

// rawDB opens a database with the store's settings and an equivalent events table.
func rawDB(b *testing.B) *sql.DB {
	path := filepath.Join(b.TempDir(), "raw.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE events (
		global_position INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL, version INTEGER NOT NULL,
		type TEXT NOT NULL, schema_version INTEGER NOT NULL, occurred_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL,
		correlation_id TEXT NOT NULL DEFAULT '', causation_id TEXT NOT NULL DEFAULT '', actor TEXT NOT NULL DEFAULT '',
		tenant TEXT NOT NULL DEFAULT '', trace_parent TEXT NOT NULL DEFAULT '', data TEXT NOT NULL, metadata TEXT,
		UNIQUE (stream_id, version))`); err != nil {
		b.Fatal(err)
	}
	return db
}

const rawInsert = `INSERT INTO events (event_id, stream_id, version, type, schema_version, occurred_at, recorded_at, data)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

func BenchmarkRawInsertSingle(b *testing.B) {
	db := rawDB(b)
	stream := storetest.StreamID()
	storetest.BenchSingle(b, func(i int) error {
		now := time.Now().UnixMicro()
		_, err := db.Exec(rawInsert, events.NewEventID(), stream, i+1, "ThingCreated", 1, now, now, string(benchPayload(i)))
		return err
	})
}

func BenchmarkRawInsertBatch8x100(b *testing.B) {
	db := rawDB(b)
	runBatches(b, func(w, i int, batch []events.Envelope, stream string) error {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck
		stmt, err := tx.Prepare(rawInsert)
		if err != nil {
			return err
		}
		defer stmt.Close()
		now := time.Now().UnixMicro()
		for j, e := range batch {
			if _, err := stmt.Exec(events.NewEventID(), stream, i*100+j+1, e.Type, 1, now, now, string(e.Data)); err != nil {
				return err
			}
		}
		return tx.Commit()
	})
}
