package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	notifyapp "github.com/socplatform/soc/commands/notifications/app"
	scanapp "github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers/trivy/trivytest"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/sagas"
	"github.com/socplatform/soc/schemas/contracts"
)

// The saga benchmark measures the scan → finding → notify flow in this process: a store holding
// one real import of SOC_BENCH_SAGA_FINDINGS findings (default 10,000) is fed to the node's sagas
// (runtime + dispatcher + notification planner), beside a baseline reading and decoding the same
// events in the same run. It reports figures; it never asserts a time.

func sagaBenchFindings() int {
	n, err := strconv.Atoi(os.Getenv("SOC_BENCH_SAGA_FINDINGS"))
	if err != nil || n <= 0 {
		return 10000
	}
	return n
}

// sagaBenchStore is a fresh store holding one import, and what the sagas will consume of it.
type sagaBenchStore struct {
	store   *events.Guarded
	backend backend
	cfg     *Config
	head    int64 // the store's head after the import
	last    int64 // the position of the last event of the sagas' contexts
	events  int   // events of the sagas' contexts
}

// importFileInto imports the report file at path into store as req asks (the file is its
// Report) through a new importer, its lookups loaded as a node loads them.
func importFileInto(tb testing.TB, ctx context.Context, store *events.Guarded, path string, req scanapp.ImportScanReport) scanapp.Summary {
	tb.Helper()
	im, err := scanapp.New(store, scanapp.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := im.Load(ctx); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	req.Report = f
	sum, err := im.Import(ctx, req)
	if err != nil {
		tb.Fatal(err)
	}
	return sum
}

// newSagaBenchStore opens a fresh guarded SQLite store (as the node does) and imports the report
// through the real importer. Untimed.
func newSagaBenchStore(b *testing.B, report string) *sagaBenchStore {
	b.Helper()
	ctx := context.Background()
	// FULL, as a node runs by default; SOC_SQLITE_SYNCHRONOUS=NORMAL shows what the fsyncs cost.
	cfg := &Config{StoreConfig: StoreConfig{DataDir: b.TempDir(), SQLiteSync: cmp.Or(os.Getenv("SOC_SQLITE_SYNCHRONOUS"), "FULL")},
		SagaConfig: SagaConfig{SLAReminderBefore: 72 * time.Hour}}
	store, be, _, err := openStore(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	importFileInto(b, ctx, store, report, scanapp.ImportScanReport{Format: "auto", Actor: "bench"})
	s := &sagaBenchStore{store: store, backend: be, cfg: cfg}
	if s.head, err = store.HeadPosition(ctx); err != nil {
		b.Fatal(err)
	}
	filter := sagaFilter(b, s)
	for after := int64(0); ; {
		batch, err := store.ReadAll(ctx, after, events.MaxReadLimit)
		if err != nil {
			b.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		after = batch[len(batch)-1].GlobalPosition
		if kept := filter.Apply(batch); len(kept) > 0 {
			s.events += len(kept)
			s.last = kept[len(kept)-1].GlobalPosition
		}
	}
	if s.events == 0 {
		b.Fatal("the import wrote no event the sagas consume")
	}
	return s
}

// sagaFilter is what the node's saga runtime consumes: the union of its sagas' contexts.
func sagaFilter(b *testing.B, s *sagaBenchStore) eventlog.Filter {
	rt, err := sagas.New(sagas.Config{Store: s.store, Checkpoints: s.backend, Sagas: platformSagas(s.cfg)})
	if err != nil {
		b.Fatal(err)
	}
	return rt.Filter()
}

// sagaBenchReport writes the generated Trivy report, dated an hour ago so that the default SLA
// policy gives every finding a due date ahead (reminder and due timers armed, none breached).
func sagaBenchReport(b *testing.B, n int) string {
	b.Helper()
	path := trivytest.WriteFile(b, n, "registry.example/sagabench:1", trivytest.Options{})
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	const old = `"CreatedAt":"2024-10-28T15:33:51Z"`
	if !bytes.Contains(raw, []byte(old)) {
		b.Fatal("the generated report's CreatedAt changed; update sagaBenchReport")
	}
	recent := fmt.Sprintf(`"CreatedAt":%q`, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	if err := os.WriteFile(path, bytes.Replace(raw, []byte(old), []byte(recent), 1), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkSagaFlow: the sagas over a real import (flow: the runtime draining the log, the
// dispatcher sending every issued command to the node's command bus, the planner recording the
// notification requests) beside the bare consumption of the same events (baseline: the
// embedded store consumer with the sagas' filter, decoding each event's data), in events/s.
func BenchmarkSagaFlow(b *testing.B) {
	n := sagaBenchFindings()
	report := sagaBenchReport(b, n)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	b.Run("flow", func(b *testing.B) {
		var elapsed, inRuntime, inDispatch time.Duration
		var consumed, sagaEvents, notifications, commands int
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			s := newSagaBenchStore(b, report)
			ctx := context.Background()
			dir, err := notifyapp.NewDirectory(notifyapp.Directory{
				Users: []notifyapp.User{
					{ID: "alice", Name: "Alice", Email: "alice@example.com", Lead: "bob"},
					{ID: "bob", Name: "Bob", Email: "bob@example.com"},
				},
				Fallback: []string{"alice", "bob"},
			})
			if err != nil {
				b.Fatal(err)
			}
			// The node's own wiring (startSagas), minus the supervised loops.
			a := &app{cfg: s.cfg, log: quiet, store: s.store, backend: s.backend, kind: "sqlite"}
			rt, d, err := newSagaStack(a, recipients{people: dir.People(), prefs: dir, file: dir}, nil, nil, []string{"email", "webhook"})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			for {
				t0 := time.Now()
				drained, err := rt.Drain(ctx)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := d.Sync(ctx); err != nil {
					b.Fatal(err)
				}
				sent, err := d.DispatchDue(ctx)
				if err != nil {
					b.Fatal(err)
				}
				inRuntime += t1.Sub(t0)
				inDispatch += time.Since(t1)
				if drained == 0 && d.Pending() == 0 {
					break
				}
				if drained == 0 && sent == 0 {
					next, _ := d.Next()
					b.Fatalf("%d commands left pending (next attempt at %s): a command failed", d.Pending(), next)
				}
			}
			elapsed += time.Since(start)
			b.StopTimer()
			consumed += s.events
			se, nr, cmds, failed := sagaBenchOutcome(b, s)
			if failed > 0 {
				b.Fatalf("%d command attempts failed", failed)
			}
			sagaEvents += se
			notifications += nr
			commands += cmds
			b.StartTimer()
		}
		b.ReportMetric(float64(consumed)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(consumed)/float64(b.N), "events")
		b.ReportMetric(float64(sagaEvents)/float64(b.N), "saga-events")
		b.ReportMetric(float64(commands)/float64(b.N), "commands")
		b.ReportMetric(float64(notifications)/float64(b.N), "notifications")
		// Where the time goes: the runtime draining the log, the dispatcher (index + commands).
		b.ReportMetric(inRuntime.Seconds()/float64(b.N), "runtime-s")
		b.ReportMetric(inDispatch.Seconds()/float64(b.N), "dispatch-s")
	})

	b.Run("baseline", func(b *testing.B) {
		var elapsed time.Duration
		var consumed int
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			s := newSagaBenchStore(b, report)
			filter := sagaFilter(b, s)
			ctx, cancel := context.WithCancel(context.Background())
			seen := 0
			c := &eventlog.StoreConsumer{Store: s.store, Filter: filter,
				StartFrom: func(context.Context) (int64, error) { return 0, nil }}
			b.StartTimer()
			start := time.Now()
			err := c.Run(ctx, func(_ context.Context, batch []events.Envelope) error {
				for i := range batch {
					var v map[string]any
					if err := json.Unmarshal(batch[i].Data, &v); err != nil {
						return err
					}
					seen++
				}
				if batch[len(batch)-1].GlobalPosition >= s.last {
					cancel() // the whole import is consumed
				}
				return nil
			})
			elapsed += time.Since(start)
			b.StopTimer()
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			if seen != s.events {
				b.Fatalf("consumed %d events, want %d", seen, s.events)
			}
			consumed += seen
			b.StartTimer()
		}
		b.ReportMetric(float64(consumed)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(consumed)/float64(b.N), "events")
	})
}

// sagaBenchOutcome counts what the flow appended after the import: the saga instances' events,
// the notification requests, the commands issued and the failed command attempts.
func sagaBenchOutcome(b *testing.B, s *sagaBenchStore) (sagaEvents, notifications, commands, failed int) {
	b.Helper()
	ctx := context.Background()
	for after := s.head; ; {
		batch, err := s.store.ReadAll(ctx, after, events.MaxReadLimit)
		if err != nil {
			b.Fatal(err)
		}
		if len(batch) == 0 {
			return
		}
		after = batch[len(batch)-1].GlobalPosition
		for i := range batch {
			e := &batch[i]
			if _, ok := sagas.SagaOfStream(e.StreamID); ok {
				sagaEvents++
				switch e.Type {
				case contracts.TypeSagaCommandIssued:
					commands++
				case contracts.TypeSagaCommandFailed:
					failed++
				}
			}
			if e.Type == contracts.TypeNotificationRequested {
				notifications++
			}
		}
	}
}
