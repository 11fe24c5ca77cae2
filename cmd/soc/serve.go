package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/socplatform/soc/cmd/soc/internal/deadline"
	"github.com/socplatform/soc/cmd/soc/internal/modules"
	"github.com/socplatform/soc/cmd/soc/internal/principalsig"
	notifyapp "github.com/socplatform/soc/commands/notifications/app"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/kafkalog"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/spf13/cobra"
)

// module is one part of a process: a target that `soc serve --target=…` runs (as Loki's targets)
// or a shared service the targets declare as a dependency. Every process also serves /healthz,
// /readyz and /metrics on --http.
type module struct {
	modules.Module
	needsKafka bool
	// start launches the module's workers. in holds the outputs of the modules it declared
	// (transitively), nothing else; out is what it offers the modules that depend on it, ready
	// its readiness check (or nil). A nil start is a module the node itself opens before any
	// other (the event store).
	start func(ctx context.Context, a *app, in inputs) (out any, ready readiness, err error)
}

// inputs are the outputs of a module's dependencies, by module name. Its accessors panic on a
// dependency the module did not declare: a wiring mistake the every-target test finds.
type inputs map[string]any

func (in inputs) readSide() *readSide             { return in[modReadDB].(*readSide) }
func (in inputs) directory() *notifyapp.Directory { return in[modDirectory].(*notifyapp.Directory) }
func (in inputs) writeSide() *writeSide           { return in["commands"].(*writeSide) }
func (in inputs) identity() *identityNode         { return in[modIdentity].(*identityNode) }

// readiness reports a target's state for /readyz: detail for humans, ok for the status code.
type readiness func(ctx context.Context) (detail any, ok bool)

// Module names that are shared services rather than targets.
const (
	modStore     = "store"
	modReadDB    = "read-db"
	modDirectory = "directory"
	modIdentity  = "identity"
)

// platform lists every module of the process with its dependencies. A target is never pulled in
// by another: sagas need the commands target beside them (scan commands execute in-process on
// its orchestrator, which runs nmap), so --target=sagas alone refuses at start naming commands.
var platform = []module{
	{Module: modules.Module{Name: modStore, Describe: "the event store: SQLite in <data>/events.db, or PostgreSQL with --postgres-url; opened before every other module"}},
	{Module: modules.Module{Name: modReadDB, Describe: "the read models' database (<data>/readmodel.db or the --read-schema PostgreSQL schema) and the live-update hub", Deps: []string{modStore, modIdentity}},
		start: func(ctx context.Context, a *app, in inputs) (any, readiness, error) {
			rs, err := openReadSide(ctx, a, in.identity())
			return rs, nil, err
		}},
	{Module: modules.Module{Name: modAnalytics, Describe: "the analytics model's backend: ClickHouse with --clickhouse-url (its reachability is in /readyz), else the read-models' database", Deps: []string{modReadDB}},
		start: openAnalytics},
	{Module: modules.Module{Name: modSearch, Describe: "the search model's backend: Elasticsearch with --elasticsearch-url or OpenSearch with --opensearch-url (its reachability is in /readyz), else SQLite FTS5 in <data>/search.db", Deps: []string{modStore}},
		start: openSearch},
	{Module: modules.Module{Name: modDirectory, Describe: "the notification directory file (--notify-directory): when set, notifications reach its people and teams instead of the identity context's users, teams and preferences"},
		start: func(_ context.Context, a *app, _ inputs) (any, readiness, error) {
			d, err := notifyapp.LoadDirectory(a.cfg.NotifyDirectory)
			return d, nil, err
		}},
	{Module: modules.Module{Name: modIdentity, Deps: []string{modStore},
		Describe: "the identity context: users, teams, roles, sessions and API tokens following the store, the signing keys (--jwt-key-dir, default <data>/keys: nodes share it) and the bootstrap admin; every target needs it, every request is authenticated through it"},
		start: startIdentity},
	{Module: modules.Module{Name: "commands", Target: true, Deps: []string{modStore, modIdentity},
		Describe: "the write API: finding and asset commands (POST /v1/findings/{id}/…, /v1/assets…), scanner report imports (POST /v1/scans/imports), the scan orchestrator (nmap), and the identity API (sign-in /v1/auth/…, /v1/me, users, teams, roles, tokens, invitations, /.well-known/jwks.json, OIDC with --oidc-issuer)"},
		start: startCommands},
	{Module: modules.Module{Name: "projections", Target: true, Deps: []string{modReadDB, modIdentity, modAnalytics, modSearch},
		Describe: "projection runners: apply the log to the read models (assets, findings, scans, cves, analytics) in <data>/readmodel.db or the --read-schema PostgreSQL schema, analytics to ClickHouse with --clickhouse-url, the search index (search module); from Kafka consumer groups when SOC_KAFKA_BROKERS is set"},
		start: startProjections},
	{Module: modules.Module{Name: "query", Target: true, Deps: []string{modReadDB, modIdentity, modDirectory, modAnalytics, modSearch}, After: []string{"projections"},
		Describe: "the read API: GET /v1/assets, /v1/findings, /v1/scans, /v1/cves, /v1/analytics/…, /v1/search, /v1/reports, audit (/v1/streams/{id}/events, /v1/events), /openapi.json and live updates on /ws"},
		start: startQuery},
	{Module: modules.Module{Name: "notifier", Target: true, Deps: []string{modStore, modDirectory, modIdentity},
		Describe: "delivers notifications on the configured channels (SOC_SMTP_*, SOC_SLACK_WEBHOOK_URL, SOC_TEAMS_WEBHOOK_URL, SOC_WEBHOOK_URL, SOC_SMS_*) with retries, backoff and dead letters; users' WebSocket sessions on /v1/notifications/ws"},
		start: startNotifier},
	{Module: modules.Module{Name: "sagas", Target: true, Deps: []string{modStore, modDirectory, modIdentity, "commands"},
		Describe: "process managers: scan schedules and runs, new-findings notifications per scan, KEV alerts, SLA reminders/breaches/escalations and risk-acceptance expiry, with durable timers (needs the commands target in the same process: scan commands execute in-process)"},
		start: startSagas},
	{Module: modules.Module{Name: targetGateway, Target: true, Deps: []string{modStore, modIdentity}, After: []string{"commands", "query", "notifier", "sagas"},
		Describe: "the API gateway: request ids, access log, metrics and rate limits (--rate-limit…) in front of this node's routes; the routes of the commands, query and notifier targets it does not run are proxied to --upstreams (breakers, retries, bulkhead, GET cache)"},
		start: startGateway},
	{Module: modules.Module{Name: "relay", Target: true, Deps: []string{modStore, modIdentity},
		Describe: "publishes the event store to Kafka topics soc.<context>.events in global order (needs SOC_KAFKA_BROKERS; with the embedded log the store itself is the log)"},
		needsKafka: true, start: startRelay},
}

// platformGraph is the checked dependency graph of platform; a bad declaration fails every test.
var platformGraph, platformByName = func() (*modules.Graph, map[string]module) {
	mods := make([]modules.Module, 0, len(platform))
	byName := make(map[string]module, len(platform))
	for _, m := range platform {
		mods = append(mods, m.Module)
		byName[m.Name] = m
	}
	g, err := modules.New(mods...)
	if err != nil {
		panic(err)
	}
	return g, byName
}()

// onRoutes, when set (tests), receives the node's route patterns once they are all registered.
var onRoutes func(patterns []string)

// app is what the targets share.
type app struct {
	cfg     *Config
	log     *slog.Logger
	store   *events.Guarded
	backend backend
	kind    string
	metrics *prometheus.Registry
	mux     *routes // targets add their routes before the node starts serving
	gateway *gatewayNode
	wg      sync.WaitGroup

	// authenticator resolves bearer credentials (the identity module sets it; a node never
	// serves without one). tickets are the WebSocket tickets it redeems.
	authenticator authenticator
	tickets       *ticketStore
	// trustedGateway verifies the principals a gateway forwards (--trust-gateway-key); nil: none is trusted.
	trustedGateway *principalsig.Verifier
	// stopping ends when the node begins to shut down: long polls answer then, not holding it up.
	stopping context.Context

	// drains are called, in order, after the node's last event is appended and before the
	// workers are cancelled, so that the shutdown event itself reaches Kafka.
	drains []func(ctx context.Context, upTo int64)
	// closers run, in reverse order, once the workers have stopped.
	closers []func()
	// consul is the node's Consul registration and hot configuration (consul.go).
	consul *consulNode
}

func serveCmd() *cobra.Command {
	var cfg Config
	var list bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "run the platform (see soc serve --list-targets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if list {
				printGraph(cmd.OutOrStdout())
				return nil
			}
			if err := checkConfig(cmd, &cfg, true); err != nil {
				return err
			}
			log := newLogger(cmd.ErrOrStderr(), cfg.LogLevel)
			if err := serve(context.Background(), &cfg, log, nil); err != nil {
				log.Error("soc serve failed", "err", err)
				return exitCode(1)
			}
			return nil
		},
	}
	bindFlags(cmd.Flags(), &cfg, true)
	cmd.Flags().BoolVar(&list, "list-targets", false, "print the targets and exit")
	return cmd
}

// serve runs until SIGTERM/SIGINT (or ctx ends), then shuts down gracefully. ready, when not nil,
// receives the bound HTTP address once the node is serving (tests use it).
func serve(ctx context.Context, cfg *Config, log *slog.Logger, ready chan<- string) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	started := time.Now()
	// Validate resolves the same graph; resolving again here refuses, before anything opens,
	// a caller that skipped it.
	order, err := platformGraph.Resolve(cfg.Targets)
	if err != nil {
		return fmt.Errorf("--target/SOC_TARGET: %w", err)
	}
	stopTracing, err := startTracing(ctx, cfg, log) // before any module: they take tracers as they start
	if err != nil {
		return err
	}
	defer stopTracing() // deferred first, so it runs last: the spans of the shutdown are flushed too

	store, b, kind, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer b.Close()
	a := &app{cfg: cfg, log: log, store: store, backend: b, kind: kind, metrics: newMetrics(store),
		tickets: newTicketStore(time.Now), stopping: ctx}
	if a.trustedGateway, err = gatewayTrust(cfg.TrustGatewayKeys); err != nil {
		return err
	}
	log.Info("event store open", "backend", kind, "data_dir", cfg.DataDir, "postgres", cfg.redactedPostgresURL())

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.HTTPAddr, err)
	}
	var shuttingDown atomic.Bool
	checks := map[string]readiness{"event_store": storeReadiness(store)}
	a.mux = newRoutes()
	front, err := mountGateway(a, order)
	if err != nil {
		_ = ln.Close()
		return err
	}
	workers, cancelWorkers := context.WithCancel(context.Background())
	defer cancelWorkers()
	outputs := map[string]any{}
	for _, name := range order {
		m := platformByName[name]
		if m.needsKafka && len(cfg.KafkaBrokers) == 0 {
			log.Info("target idle: the embedded log needs no relay", "target", name)
			continue
		}
		if m.start == nil {
			continue
		}
		in := inputs{}
		for _, d := range platformGraph.Deps(name) {
			in[d] = outputs[d]
		}
		out, check, err := m.start(workers, a, in)
		if err != nil {
			_ = ln.Close()
			if m.Target {
				return fmt.Errorf("starting target %s: %w", name, err)
			}
			return fmt.Errorf("starting module %s: %w", name, err)
		}
		outputs[name] = out
		if check != nil {
			checks[name] = check
		}
		if m.Target {
			log.Info("target started", "target", name)
		} else {
			log.Debug("module started", "module", name)
		}
	}
	if a.authenticator == nil { // every target depends on the identity module, which sets it
		_ = ln.Close()
		return errors.New("no authenticator: the identity module did not start")
	}
	if err := a.openConsul(checks); err != nil {
		_ = ln.Close()
		return err
	}
	// The read and write timeouts are each request's first deadlines, which the policy moves
	// while its body or answer moves: they bound idleness, not a long upload or download.
	idle := deadline.Policy{Idle: 60 * time.Second, MinProgress: 16 << 10}
	srv := &http.Server{
		Handler:           idle.Wrap(front(a.withCORS(newRouter(a, checks, &shuttingDown)))),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       idle.Idle,
		WriteTimeout:      idle.Idle,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if onRoutes != nil {
		onRoutes(a.mux.Patterns())
	}
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()

	// The node's own lifecycle is an audited fact, like everything else.
	node := events.NewStreamID("monitoring", "node")
	logKind := "store"
	if len(cfg.KafkaBrokers) > 0 {
		logKind = "kafka"
	}
	host, _ := os.Hostname()
	startedData, _ := json.Marshal(map[string]any{"node_id": node, "version": version, "targets": cfg.Targets,
		"hostname": host, "pid": os.Getpid(), "event_store": kind, "log": logKind})
	// Not under ctx: the node already answers (/readyz may be 200), so a SIGTERM that arrives
	// while NodeStarted is written must end in the graceful shutdown below (NodeStopped, exit 0),
	// not fail the start with "context canceled". ShutdownTimeout bounds a store that hangs.
	startCtx, cancelStart := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	_, err = store.Append(startCtx, node, events.NoStream, []events.Envelope{{Type: contracts.TypeNodeStarted, Data: startedData, Actor: "system:soc"}})
	cancelStart()
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("recording NodeStarted: %w", err)
	}

	addr := ln.Addr().String()
	log.Info("soc serving", "http", addr, "targets", strings.Join(cfg.Targets, ","), "node", node, "version", version)
	deregister := a.startConsul(workers, node, addr)
	if ready != nil {
		ready <- addr
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down", "reason", "signal")
	case err := <-httpErr:
		log.Error("HTTP server stopped", "err", err)
	}
	stop() // a second signal now kills the process the default way

	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// Out of Consul first: gateways stop routing here while requests are still answered.
	deregister(shutdownCtx)
	shuttingDown.Store(true) // /readyz answers 503 so balancers stop sending traffic
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("HTTP shutdown incomplete", "err", err)
	}
	stoppedData, _ := json.Marshal(map[string]any{"node_id": node, "reason": "graceful shutdown", "uptime_seconds": time.Since(started).Seconds()})
	res, err := store.Append(shutdownCtx, node, events.StreamExists, []events.Envelope{{Type: contracts.TypeNodeStopped, Data: stoppedData, Actor: "system:soc"}})
	if err != nil {
		log.Error("recording NodeStopped", "err", err)
	}
	for _, drain := range a.drains {
		drain(shutdownCtx, res.LastPosition)
	}
	cancelWorkers()
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-shutdownCtx.Done():
		log.Warn("workers did not stop within the shutdown timeout; un-checkpointed work is redone on the next start")
	}
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	log.Info("stopped", "uptime", time.Since(started).Round(time.Millisecond).String())
	return nil
}

// supervise runs fn until ctx ends, restarting it with capped exponential backoff when it fails,
// so a broker outage degrades readiness instead of killing the node.
func (a *app) supervise(ctx context.Context, name string, lastErr *atomic.Value, fn func(context.Context) error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		backoff := time.Second
		for {
			err := fn(ctx)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				err = errors.New("stopped unexpectedly")
			}
			lastErr.Store(err.Error())
			a.log.Error("target failed; restarting", "target", name, "err", err, "backoff", backoff.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 30*time.Second)
		}
	}()
}

func startRelay(ctx context.Context, a *app, _ inputs) (any, readiness, error) {
	relay, err := kafkalog.NewRelay(kafkalog.RelayConfig{Brokers: a.cfg.KafkaBrokers, TopicPrefix: a.cfg.KafkaTopicPrefix}, a.store, a.backend)
	if err != nil {
		return nil, nil, err
	}
	registerRelayMetrics(a.metrics, relay.Metrics())
	var lastErr atomic.Value
	lastErr.Store("")
	a.supervise(ctx, "relay", &lastErr, relay.Run)
	a.drains = append(a.drains, func(ctx context.Context, upTo int64) {
		// Wait (bounded by the shutdown timeout) until Kafka has acknowledged everything
		// appended so far, including NodeStopped.
		for relay.Metrics().LastRelayed.Load() < upTo && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
	})
	return nil, func(context.Context) (any, bool) {
		m := relay.Metrics()
		detail := map[string]any{"last_relayed": m.LastRelayed.Load(), "checkpoint": m.Checkpoint.Load(), "lag": m.Lag()}
		if e := lastErr.Load().(string); e != "" {
			detail["last_error"] = e
		}
		return detail, true // a lagging relay does not make the API unready: writes still land in the store
	}, nil
}

func storeReadiness(s events.EventStore) readiness {
	return func(ctx context.Context) (any, bool) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		head, err := s.HeadPosition(ctx)
		if err != nil {
			return map[string]any{"error": "event store unreachable"}, false
		}
		return map[string]any{"head_position": head}, true
	}
}

// printGraph prints every target with its description and the modules it starts after,
// transitively, then the shared modules (--list-targets).
func printGraph(w io.Writer) {
	fmt.Fprintf(w, "%-11s %s\n", modules.All, "every target below (default)")
	for _, n := range platformGraph.Targets() {
		m, _ := platformGraph.Module(n)
		fmt.Fprintf(w, "%-11s %s\n", n, m.Describe)
		fmt.Fprintf(w, "%-11s   needs: %s\n", "", strings.Join(platformGraph.Deps(n), ", "))
	}
	fmt.Fprintln(w, "\nshared modules (started for the targets that need them):")
	for _, m := range platform {
		if m.Target {
			continue
		}
		needs := "-"
		if d := platformGraph.Deps(m.Name); len(d) > 0 {
			needs = strings.Join(d, ", ")
		}
		fmt.Fprintf(w, "%-11s %s\n%-11s   needs: %s\n", m.Name, m.Describe, "", needs)
	}
}

// newLogger's level can change while the node runs (Consul KV log_level, see levelHandler).
func newLogger(w io.Writer, level string) *slog.Logger {
	lv := &levelVar{}
	_ = lv.initial.UnmarshalText([]byte(level))
	lv.Set(lv.initial)
	return slog.New(&levelHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv}), lv})
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
