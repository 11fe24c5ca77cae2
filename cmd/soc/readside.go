package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/events/kafkalog"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/identity"
	"github.com/socplatform/soc/projections/readstore"
	"github.com/socplatform/soc/projections/runner"
	"github.com/socplatform/soc/projections/scans"
	_ "github.com/socplatform/soc/projections/sqldb" // the SQL read stores: "sqlite" and "postgres"
	"github.com/socplatform/soc/projections/vulns"
	queryapi "github.com/socplatform/soc/query-api"
	"github.com/socplatform/soc/query-api/ws"
)

// readModels are the platform's projections, in the order they are started and listed.
func readModels() []projections.Projection {
	return append([]projections.Projection{
		assets.NewProjection(),
		vulns.NewFindingsProjection(),
		scans.NewProjection(),
		vulns.NewCVEsProjection(),
	}, identity.Projections()...)
}

// projectionByName returns the named projections of c's runners ("all" = every one).
func projectionsNamed(c *Config, name string) ([]projections.Projection, error) {
	all := allReadModels(c)
	if name == "all" {
		return all, nil
	}
	for _, p := range all {
		if p.Name() == name {
			return []projections.Projection{p}, nil
		}
	}
	names := make([]string, 0, len(all))
	for _, p := range all {
		names = append(names, p.Name())
	}
	return nil, fmt.Errorf("%w %q (known: all, %v)", projections.ErrUnknownProjection, name, names)
}

// openReadDB opens the read-model database: <data>/readmodel.db on the embedded default (a file
// of its own, so projection writes never take the event store's write lock), the --read-schema
// schema of the PostgreSQL database otherwise.
func openReadDB(ctx context.Context, c *Config) (*projections.DB, error) {
	if c.PostgresURL != "" {
		return readstore.Open(ctx, "postgres", readstore.Settings{URL: c.PostgresURL, Schema: c.ReadSchema})
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	return readstore.Open(ctx, "sqlite", readstore.Settings{Path: filepath.Join(c.DataDir, "readmodel.db")})
}

// readSide is what the projections and query targets share inside one process.
type readSide struct {
	db      *projections.DB
	runners []*runner.Runner // empty when the projections target runs elsewhere
	hub     *ws.Hub
}

// openReadSide opens the read side (the read-db module, once per process).
func openReadSide(ctx context.Context, a *app, id *identityNode) (*readSide, error) {
	db, err := openReadDB(ctx, a.cfg)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() { _ = db.SQL.Close() })
	// API tokens' last use, recorded by this node's authenticator, lands beside the identity
	// read model (GET /v1/tokens answers it from memory until the next flush).
	id.svc.SetLastUsed(identity.NewTokenUsage(db))
	// The hub filters a team-scoped subscriber's updates by the assets read model's ownership.
	return &readSide{db: db, hub: ws.NewHub(ws.Config{Log: a.log, Owners: assets.NewReader(db)})}, nil
}

// startProjections runs one runner per read model: from the store (embedded default) or from a
// Kafka consumer group per projection.
func startProjections(ctx context.Context, a *app, in inputs) (any, readiness, error) {
	rs := in.readSide()
	var err error
	for _, p := range allReadModels(a.cfg) {
		var consumer eventlog.Consumer
		if len(a.cfg.KafkaBrokers) > 0 {
			consumer, err = kafkalog.NewConsumer(kafkalog.ConsumerConfig{
				Brokers:     a.cfg.KafkaBrokers,
				Group:       "soc-projection-" + p.Name(),
				TopicPrefix: a.cfg.KafkaTopicPrefix,
				Filter:      eventlog.Filter{Contexts: p.Contexts()},
			})
			if err != nil {
				return nil, nil, err
			}
		}
		r, err := runner.New(runner.Config{
			DB: rs.db, Projection: p, Store: a.store, Consumer: consumer,
			BatchSize: a.cfg.ProjectionBatch, OnChange: rs.hub.Publish, Log: a.log,
		})
		if err != nil {
			return nil, nil, err
		}
		if err := r.Init(ctx); err != nil {
			return nil, nil, fmt.Errorf("projection %s: %w", p.Name(), err)
		}
		rs.runners = append(rs.runners, r)
		var lastErr atomic.Value
		lastErr.Store("")
		a.supervise(ctx, "projection "+p.Name(), &lastErr, r.Run)
	}
	registerProjectionMetrics(a.metrics, rs.runners)
	var chReady readiness
	if side := in.analytics(); side.ch != nil {
		if chReady, err = startClickHouseProjector(ctx, a, side); err != nil {
			return nil, nil, err
		}
	}
	searchReady := startSearchProjector(ctx, a, in.search())
	return nil, func(ctx context.Context) (any, bool) {
		detail := map[string]any{}
		if chReady != nil {
			detail["analytics"], _ = chReady(ctx)
		}
		detail[searchName], _ = searchReady(ctx)
		for _, r := range rs.runners {
			st, err := r.Status(ctx)
			if err != nil {
				detail[r.Name()] = map[string]any{"error": err.Error()}
				continue
			}
			detail[st.Name] = st
		}
		// A lagging or parked projection makes reads stale, not impossible: the node stays ready
		// and the lag and park are alerted on through /metrics (soc_projection_*).
		return detail, true
	}, nil
}

func registerProjectionMetrics(reg *prometheus.Registry, runners []*runner.Runner) {
	lag := prometheus.NewDesc("soc_projection_lag_events", "Events the projection trails the event store head.", []string{"projection"}, nil)
	lagSec := prometheus.NewDesc("soc_projection_lag_seconds", "How long ago the oldest event the projection has not applied was recorded (0 when caught up).", []string{"projection"}, nil)
	pos := prometheus.NewDesc("soc_projection_position", "Global position up to which the projection has applied the log.", []string{"projection"}, nil)
	applied := prometheus.NewDesc("soc_projection_events_applied_total", "Events applied by the live generation of the projection.", []string{"projection"}, nil)
	parked := prometheus.NewDesc("soc_projection_parked", "1 while the projection is parked on a poison event (alert on it).", []string{"projection"}, nil)
	gen := prometheus.NewDesc("soc_projection_generation", "Live generation of the projection's tables (a rebuild increments it).", []string{"projection"}, nil)
	reg.MustRegister(collectorFunc{
		descs: []*prometheus.Desc{lag, lagSec, pos, applied, parked, gen},
		collect: func(ch chan<- prometheus.Metric) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			for _, r := range runners {
				st, err := r.Status(ctx)
				if err != nil {
					continue
				}
				isParked := 0.0
				if st.Parked != nil {
					isParked = 1
				}
				ch <- prometheus.MustNewConstMetric(lag, prometheus.GaugeValue, float64(st.LagEvents), st.Name)
				ch <- prometheus.MustNewConstMetric(lagSec, prometheus.GaugeValue, st.LagSeconds, st.Name)
				ch <- prometheus.MustNewConstMetric(pos, prometheus.GaugeValue, float64(st.Position), st.Name)
				ch <- prometheus.MustNewConstMetric(applied, prometheus.CounterValue, float64(st.EventsApplied), st.Name)
				ch <- prometheus.MustNewConstMetric(parked, prometheus.GaugeValue, isParked, st.Name)
				ch <- prometheus.MustNewConstMetric(gen, prometheus.GaugeValue, float64(st.Generation), st.Name)
			}
		},
	})
}

// collectorFunc is a Prometheus collector computed on scrape.
type collectorFunc struct {
	descs   []*prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}
func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

// startQuery serves the query API, the audit endpoints, /openapi.json and /ws.
func startQuery(ctx context.Context, a *app, in inputs) (any, readiness, error) {
	rs := in.readSide()
	var err error
	var querier events.EventQuerier = a.store
	var version func() int64
	if len(rs.runners) > 0 {
		// The response cache is valid while no runner of this process has changed a read model.
		// Without runners here (projections on other nodes) nothing tells this process of a
		// change, so it does not cache.
		version = func() int64 {
			var v int64
			for _, r := range rs.runners {
				v += r.Version()
			}
			return v
		}
	}
	api, err := queryapi.New(queryapi.Config{
		Version:     version,
		CacheBytes:  a.cfg.QueryCacheBytes,
		Reader:      vulns.NewReader(rs.db),
		Assets:      assets.NewReader(rs.db),
		Scans:       scans.NewReader(rs.db),
		Store:       a.store,
		Querier:     querier,
		Waiter:      waiter{a: a, rs: rs},
		FoldAsset:   assets.FoldAsset,
		FoldFinding: vulns.FoldFinding,
		MaxWait:     a.cfg.QueryMaxWait,
		Position:    waiter{a: a, rs: rs},
		Stopping:    a.stopping,
		Log:         a.log,

		Analytics:         in.analytics().reader,
		AnalyticsPosition: analyticsPosition(a, rs, in.analytics()),
	})
	if err != nil {
		return nil, nil, err
	}
	api.Register(a.mux)
	registerSearch(a, in.search())
	if err := startReports(ctx, a, rs, in.analytics().reader, recipientsOf(a, in.directory(), in.identity()).people); err != nil {
		return nil, nil, err
	}
	registerQueryMetrics(a.metrics, api)
	a.mux.Handle("GET /ws", rs.hub)
	a.closers = append(a.closers, rs.hub.Close)
	return nil, nil, nil
}

func registerQueryMetrics(reg *prometheus.Registry, api *queryapi.API) {
	stat := func(name, help string, f func(queryapi.CacheStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f(api.CacheStats())) })
	}
	reg.MustRegister(
		stat("soc_query_cache_hits_total", "Reads answered from the response cache.", func(s queryapi.CacheStats) uint64 { return s.Hits }),
		stat("soc_query_cache_misses_total", "Reads that ran their query.", func(s queryapi.CacheStats) uint64 { return s.Misses }),
		stat("soc_query_cache_evictions_total", "Cached responses evicted to stay within the byte bound.", func(s queryapi.CacheStats) uint64 { return s.Evictions }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "soc_query_cache_bytes", Help: "Memory held by cached responses."},
			func() float64 { return float64(api.CacheStats().Bytes) }),
	)
}

// waiter implements read-your-writes over every projection: from the runners of this process when
// the projections target runs here, else by polling the read-model database's checkpoints.
type waiter struct {
	a    *app
	rs   *readSide
	only string // one projection's name ("": every one)
}

// runners are the runners of this process w waits for.
func (w waiter) runners() []*runner.Runner {
	if w.only == "" {
		return w.rs.runners
	}
	var out []*runner.Runner
	for _, r := range w.rs.runners {
		if r.Name() == w.only {
			out = append(out, r)
		}
	}
	return out
}

// models are the projections w waits for.
func (w waiter) models() []projections.Projection {
	all := allReadModels(w.a.cfg)
	if w.only == "" {
		return all
	}
	var out []projections.Projection
	for _, p := range all {
		if p.Name() == w.only {
			out = append(out, p)
		}
	}
	return out
}

// ReadPosition is the lowest position of the read models: each one has applied every event up
// to it. From this process's runners when they run here (each reports its position only once its
// commit is visible), else from the read-model database's checkpoints; read before a query, the
// query sees at least that position either way. (With Kafka consumers a runner's position is the
// highest it applied, not a bound below which all is: their lowest is then an approximation,
// which still rises as every read model catches up.)
func (w waiter) ReadPosition(ctx context.Context) (int64, error) {
	pos := int64(math.MaxInt64)
	if rs := w.runners(); len(rs) > 0 {
		for _, r := range rs {
			pos = min(pos, r.Position())
		}
		return pos, nil
	}
	for _, p := range w.models() {
		n, err := runner.LivePosition(ctx, w.rs.db, p.Name())
		if errors.Is(err, runner.ErrNotInitialized) {
			return 0, nil // not started by the projections target yet: nothing applied
		}
		if err != nil {
			return 0, err
		}
		pos = min(pos, n)
	}
	return pos, nil
}

func (w waiter) WaitFor(ctx context.Context, pos int64) error {
	if rs := w.runners(); len(rs) > 0 {
		for _, r := range rs {
			if err := r.WaitFor(ctx, pos); err != nil {
				return err
			}
		}
		return nil
	}
	for _, p := range w.models() {
		if err := runner.WaitPosition(ctx, w.rs.db, w.a.store, p.Name(), pos, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}
