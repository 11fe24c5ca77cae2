package postgres

// Benchmarks of the adapter beside raw baselines measured in the same run, on the same server,
// pool settings and row shape: raw_events is created LIKE events INCLUDING ALL (same columns,
// primary key, unique constraints and indexes) with global_position from a sequence, and the raw
// benchmarks write the very envelopes the adapter benchmarks append, converted in the timed loop
// as Append converts them. Only the locking logic differs.
//
//	SOC_TEST_POSTGRES_URL=… go test -run '^$' -bench . -benchtime 3s ./adapters/postgres
//
// Read the figures as ratios: adapter / raw.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/storetest"
)

const (
	benchWriters   = 8
	benchBatchSize = 100
	benchMaxConns  = 16
)

// benchEvent is a realistic event: ~330 bytes of data, metadata and every envelope field set.
func benchEvent(stream string, i int) events.Envelope {
	data, _ := json.Marshal(map[string]any{
		"name": fmt.Sprintf("asset-%06d", i), "n": i, "hostname": fmt.Sprintf("web-%03d.prod.example.internal", i%1000),
		"ip": fmt.Sprintf("10.%d.%d.%d", i%250, (i/250)%250, i%7), "tags": []string{"prod", "pci", "linux"},
		"owner": "team-red", "criticality": "high", "os": "debian-12",
		"description": "registered by the CMDB import; scanned weekly; exposed to the internet through the edge proxy",
	})
	return events.Envelope{
		EventID: events.NewEventID(), StreamID: stream, StreamType: events.StreamTypeOf(stream),
		Type: "AssetRegistered", SchemaVersion: 1, OccurredAt: time.Now().UTC(), Data: data,
		Metadata:      json.RawMessage(`{"source":"bench","request_id":"` + events.NewEventID() + `"}`),
		CorrelationID: events.NewEventID(), CausationID: events.NewEventID(), Actor: "user:alice", Tenant: "acme",
		TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	}
}

func benchBatches(n, size int) [][]events.Envelope {
	out := make([][]events.Envelope, n)
	for i := range out {
		stream := events.NewStreamID("assets", "asset")
		out[i] = make([]events.Envelope, size)
		for j := range out[i] {
			out[i][j] = benchEvent(stream, i*size+j)
		}
	}
	return out
}

// benchStore opens a store on a fresh schema and creates the raw baseline table beside it.
func benchStore(b *testing.B) *Store {
	b.Helper()
	s := openTest(b, Config{MaxConns: benchMaxConns})
	sch := quoteIdent(s.cfg.Schema)
	ddl := `CREATE TABLE ` + sch + `.raw_events (LIKE ` + sch + `.events INCLUDING ALL);
		CREATE SEQUENCE ` + sch + `.raw_seq;
		ALTER TABLE ` + sch + `.raw_events ALTER COLUMN global_position SET DEFAULT nextval('` + s.cfg.Schema + `.raw_seq')`
	if _, err := s.pool.Exec(context.Background(), ddl, pgx.QueryExecModeSimpleProtocol); err != nil {
		b.Fatal(err)
	}
	return s
}

var rawCols = []string{"event_id", "stream_id", "stream_type", "version", "type", "schema_version", "occurred_at",
	"recorded_at", "correlation_id", "causation_id", "actor", "tenant", "trace_parent", "data", "metadata"}

func rawRow(e *events.Envelope, version int64, recorded time.Time) []any {
	var meta []byte
	if len(e.Metadata) > 0 {
		meta = e.Metadata
	}
	id := uuid.MustParse(e.EventID) // the conversion Append does too
	return []any{[16]byte(id), e.StreamID, e.StreamType, version, e.Type, int32(e.SchemaVersion), e.OccurredAt, recorded,
		e.CorrelationID, e.CausationID, e.Actor, e.Tenant, e.TraceParent, []byte(e.Data), meta}
}

// singleEvents returns a new asset stream's id and n events for it, appended one at a time by the
// single-event benchmarks.
func singleEvents(n int) (string, []events.Envelope) {
	stream := events.NewStreamID("assets", "asset")
	evs := make([]events.Envelope, n)
	for i := range evs {
		evs[i] = benchEvent(stream, i)
	}
	return stream, evs
}

// BenchmarkAppendSingle: one writer, one event per append, to one stream with exact expected versions.
func BenchmarkAppendSingle(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	stream, evs := singleEvents(b.N)
	storetest.BenchSingle(b, func(i int) error {
		_, err := s.Append(ctx, stream, events.Exact(int64(i)), evs[i:i+1])
		return err
	})
}

// BenchmarkRawInsertSingle: the same events, one autocommit INSERT each, no locking logic.
func BenchmarkRawInsertSingle(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	_, evs := singleEvents(b.N)
	q := `INSERT INTO ` + quoteIdent(s.cfg.Schema) + `.raw_events (` + strings.Join(rawCols, ", ") + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`
	storetest.BenchSingle(b, func(i int) error {
		_, err := s.pool.Exec(ctx, q, rawRow(&evs[i], int64(i+1), time.Now())...)
		return err
	})
}

// runParallelBatches runs b.N batches of benchBatchSize events on benchWriters goroutines and
// reports events/s.
func runParallelBatches(b *testing.B, do func(batch []events.Envelope) error) {
	batches := benchBatches(b.N, benchBatchSize)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, benchWriters)
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < benchWriters; w++ {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(len(batches)) {
					return
				}
				if err := do(batches[i]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*benchBatchSize)/elapsed.Seconds(), "events/s")
}

// BenchmarkAppendBatch8x100: 8 writers, each append a batch of 100 events to a new stream.
func BenchmarkAppendBatch8x100(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	runParallelBatches(b, func(batch []events.Envelope) error {
		_, err := s.Append(ctx, batch[0].StreamID, events.NoStream, batch)
		return err
	})
}

// BenchmarkRawCopyBatch8x100: the same batches, one autocommit COPY each, no locking logic.
func BenchmarkRawCopyBatch8x100(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	table := pgx.Identifier{s.cfg.Schema, "raw_events"}
	runParallelBatches(b, func(batch []events.Envelope) error {
		now := time.Now()
		rows := make([][]any, len(batch))
		for i := range batch {
			rows[i] = rawRow(&batch[i], int64(i+1), now)
		}
		_, err := s.pool.CopyFrom(ctx, table, rawCols, pgx.CopyFromRows(rows))
		return err
	})
}

// BenchmarkRawUnnestBatch8x100: the same batches, one autocommit INSERT … SELECT FROM unnest(…)
// each (the statement append_events uses), no locking logic. Compare with RawCopyBatch8x100 to see
// which bulk path is faster for 100-event batches.
func BenchmarkRawUnnestBatch8x100(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	q := `INSERT INTO ` + quoteIdent(s.cfg.Schema) + `.raw_events (event_id, stream_id, stream_type, version, type,
			schema_version, occurred_at, recorded_at, correlation_id, causation_id, actor, tenant, trace_parent, data, metadata)
		SELECT u.id, $1, $2, u.ord, u.typ, u.sv, u.occ, clock_timestamp(), NULLIF(u.corr, ''), NULLIF(u.caus, ''),
			NULLIF(u.act, ''), NULLIF(u.ten, ''), NULLIF(u.tp, ''), u.dat, u.meta
		  FROM unnest($3::uuid[], $4::text[], $5::int[], $6::timestamptz[], $7::text[], $8::text[], $9::text[],
			$10::text[], $11::text[], $12::jsonb[], $13::jsonb[])
		  WITH ORDINALITY AS u(id, typ, sv, occ, corr, caus, act, ten, tp, dat, meta, ord)`
	runParallelBatches(b, func(batch []events.Envelope) error {
		bt, err := newBatch(batch)
		if err != nil {
			return err
		}
		_, err = s.pool.Exec(ctx, q, batch[0].StreamID, batch[0].StreamType, bt.ids, bt.types, bt.schemaVers, bt.occurred,
			bt.correlation, bt.causation, bt.actors, bt.tenants, bt.tp, bt.data, bt.metadata)
		return err
	})
}

// BenchmarkAppendBatchCopyVariant8x100 measures the design not taken: the same locking logic, but
// the events are sent with COPY inside an explicit transaction (BEGIN; append_prepare, which does
// everything append_events does except the INSERT; COPY; COMMIT). It exists to justify choosing
// the single-statement unnest append; compare with AppendBatch8x100.
func BenchmarkAppendBatchCopyVariant8x100(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	sch := quoteIdent(s.cfg.Schema)
	fn := renderDDL(s.cfg.Schema, s.channel)
	fn = fn[strings.Index(fn, "CREATE OR REPLACE FUNCTION"):]
	ins := strings.Index(fn, "INSERT INTO "+sch+".events (")
	end := strings.Index(fn[ins:], "ord);") + len("ord);")
	fn = fn[:ins] + fn[ins+end:]
	fn = strings.Replace(fn, sch+".append_events(", sch+".append_prepare(", 1)
	if _, err := s.pool.Exec(ctx, fn, pgx.QueryExecModeSimpleProtocol); err != nil {
		b.Fatal(err)
	}
	prep := `SELECT o_status, o_first, o_recorded FROM ` + sch + `.append_prepare($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`
	table := pgx.Identifier{s.cfg.Schema, "events"}
	cols := append([]string{"global_position"}, rawCols...)
	runParallelBatches(b, func(batch []events.Envelope) error {
		bt, err := newBatch(batch)
		if err != nil {
			return err
		}
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		var status int32
		var first pgtype.Int8
		var recorded pgtype.Timestamptz
		if err := tx.QueryRow(ctx, prep, batch[0].StreamID, batch[0].StreamType, int64(events.NoStream), bt.ids,
			[]string{}, []int32{}, []pgtype.Timestamptz{}, []string{}, []string{}, []string{}, []string{}, []string{},
			[][]byte{}, [][]byte{}).Scan(&status, &first, &recorded); err != nil {
			return err
		}
		if status != statusAppended {
			return fmt.Errorf("append_prepare: status %d", status)
		}
		rows := make([][]any, len(batch))
		for i := range batch {
			rows[i] = append([]any{first.Int64 + int64(i)}, rawRow(&batch[i], int64(i+1), recorded.Time)...)
		}
		if _, err := tx.CopyFrom(ctx, table, cols, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}
