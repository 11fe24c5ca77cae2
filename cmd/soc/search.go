package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/envflag"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/events/kafkalog"
	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/elastic"
	"github.com/socplatform/soc/projections/search/fts"
	"github.com/socplatform/soc/query-api/querykit"
	searchapi "github.com/socplatform/soc/query-api/search"
)

// The search model (projections/search) has three backends behind one port: Elasticsearch
// (--elasticsearch-url) or OpenSearch (--opensearch-url), else the embedded default, SQLite FTS5
// in <data>/search.db. The search module opens the backend once per process; the projections
// target feeds it (its projector is no runner's: the index keeps its own position), the query
// target serves GET /v1/search from it.

const (
	modSearch = "search"
	// searchName is the search model's name in soc replay --projection and soc projections status.
	searchName = "search"
	// searchFile is the embedded default's file in the data directory.
	searchFile = "search.db"
)

// SearchConfig chooses the search backend (flags and SOC_* variables).
type SearchConfig struct {
	ElasticsearchURL string // --elasticsearch-url; a secret (it may carry a password)
	OpenSearchURL    string // --opensearch-url; likewise
	Username         string // --search-username (basic authentication, optional)
	Password         string // --search-password (or SOC_SEARCH_PASSWORD_FILE)
	Index            string // --search-index: the alias searched (the concrete indices are named after it)
}

// RegisterFlags binds the configuration to fs.
func (c *SearchConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.Var(envflag.Secret(&c.ElasticsearchURL), "elasticsearch-url", "Elasticsearch (7.17 or 8) URL for the search model (http://127.0.0.1:9200); empty: --opensearch-url, or the embedded default (SQLite FTS5 in <data>/"+searchFile+")")
	fs.Var(envflag.Secret(&c.OpenSearchURL), "opensearch-url", "OpenSearch (2.x) URL for the search model, instead of --elasticsearch-url")
	fs.StringVar(&c.Username, "search-username", "", "user of the search server (basic authentication)")
	fs.Var(envflag.Secret(&c.Password), "search-password", "password of --search-username")
	fs.StringVar(&c.Index, "search-index", elastic.DefaultIndex, "alias the search server's documents are searched through (its indices are named after it)")
}

// Validate reports every invalid setting, naming its flag (never a URL: it may carry a password).
func (c *SearchConfig) Validate() error {
	if c.ElasticsearchURL != "" && c.OpenSearchURL != "" {
		return errors.New("--elasticsearch-url/SOC_ELASTICSEARCH_URL and --opensearch-url/SOC_OPENSEARCH_URL: set one search server, not both")
	}
	srv, ok := c.server()
	if !ok {
		if c.Username != "" || c.Password != "" {
			return errors.New("--search-username/--search-password: set without a search server (--elasticsearch-url or --opensearch-url)")
		}
		return nil
	}
	if err := srv.Validate(); err != nil {
		return fmt.Errorf("--%s-url/SOC_%s_URL: %w", srv.Flavor, upper(srv.Flavor), err)
	}
	return nil
}

func upper(flavor string) string {
	if flavor == elastic.FlavorOpenSearch {
		return "OPENSEARCH"
	}
	return "ELASTICSEARCH"
}

// server is the search server configured, false for the embedded default.
func (c *SearchConfig) server() (elastic.Config, bool) {
	cfg := elastic.Config{Username: c.Username, Password: c.Password, Index: c.Index}
	switch {
	case c.ElasticsearchURL != "":
		cfg.URL, cfg.Flavor = c.ElasticsearchURL, elastic.FlavorElasticsearch
	case c.OpenSearchURL != "":
		cfg.URL, cfg.Flavor = c.OpenSearchURL, elastic.FlavorOpenSearch
	default:
		return cfg, false
	}
	return cfg, true
}

// searchIndex is what the node needs of a backend: the port, and the generations a rebuild
// swaps (every backend has both).
type searchIndex interface {
	search.Index
	search.Generations
}

// searchSide is the search module's output.
type searchSide struct {
	index   searchIndex
	backend string // elasticsearch, opensearch or fts
}

func (in inputs) search() *searchSide { return in[modSearch].(*searchSide) }

// openSearchIndex opens the configured backend; close releases it.
func openSearchIndex(ctx context.Context, c *Config) (ix searchIndex, backend string, close func(), err error) {
	if srv, ok := c.Search.server(); ok {
		ix, err := elastic.Open(ctx, srv)
		if err != nil {
			return nil, "", nil, fmt.Errorf("search server (%s): %w", srv.Flavor, err)
		}
		return ix, srv.Flavor, func() {}, nil
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return nil, "", nil, fmt.Errorf("creating data directory: %w", err)
	}
	f, err := fts.Open(ctx, filepath.Join(c.DataDir, searchFile))
	if err != nil {
		return nil, "", nil, err
	}
	return f, "fts", func() { _ = f.Close() }, nil
}

// openSearch opens the search backend (the search module's start). /readyz includes whether the
// index answers: without it every search fails.
func openSearch(ctx context.Context, a *app, _ inputs) (any, readiness, error) {
	ix, backend, closeIx, err := openSearchIndex(ctx, a.cfg)
	if err != nil {
		return nil, nil, err
	}
	a.closers = append(a.closers, closeIx)
	side := &searchSide{index: ix, backend: backend}
	return side, func(ctx context.Context) (any, bool) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		pos, err := ix.Position(ctx)
		if err != nil {
			return map[string]any{"backend": backend, "error": "search index unreachable"}, false
		}
		return map[string]any{"backend": backend, "position": pos}, true
	}, nil
}

// startSearchProjector feeds the index from the log (superviseLogProjector). Documents are
// written with external versions, so a redelivered batch (a restart, a rebalance, the events a
// rebuild already indexed) changes nothing.
func startSearchProjector(ctx context.Context, a *app, side *searchSide) readiness {
	p := search.NewProjector(side.index)
	c := p.StoreConsumer(a.store)
	c.BatchSize = a.cfg.ProjectionBatch
	return superviseLogProjector(ctx, a, logProjector{name: searchName, backend: side.backend,
		consumer: c, handle: p.Handle, position: side.index.Position})
}

// logProjector is a projection that keeps its position in its own backend rather than in the
// read-model database (the analytics model on ClickHouse, the search index), so it has no
// runner: superviseLogProjector runs it.
type logProjector struct {
	name, backend string
	consumer      *eventlog.StoreConsumer // the embedded log: the store, from the backend's position
	handle        eventlog.Handler
	position      func(context.Context) (int64, error)
}

// superviseLogProjector feeds p from the log — the store itself on the embedded log, a consumer
// group over every context's topic on Kafka (its position then follows the whole log, so a
// min_position from any command is reached) — restarting it when it fails; its readiness
// reports the backend, the position and the last error.
func superviseLogProjector(ctx context.Context, a *app, p logProjector) readiness {
	run := func(ctx context.Context) error { return p.consumer.Run(ctx, p.handle) }
	if len(a.cfg.KafkaBrokers) > 0 {
		run = func(ctx context.Context) error {
			consumer, err := kafkalog.NewConsumer(kafkalog.ConsumerConfig{
				Brokers:     a.cfg.KafkaBrokers,
				Group:       "soc-projection-" + p.name,
				TopicPrefix: a.cfg.KafkaTopicPrefix,
			})
			if err != nil {
				return err
			}
			return consumer.Run(ctx, p.handle)
		}
	}
	var lastErr atomic.Value
	lastErr.Store("")
	a.supervise(ctx, "projection "+p.name+" ("+p.backend+")", &lastErr, run)
	return func(ctx context.Context) (any, bool) {
		detail := map[string]any{"backend": p.backend}
		if pos, err := p.position(ctx); err == nil {
			detail["position"] = pos
		}
		if e := lastErr.Load().(string); e != "" {
			detail["last_error"] = e
		}
		// As for the SQL read models, a lagging projection makes reads stale, not impossible.
		return detail, true
	}
}

// registerSearch serves GET /v1/search from the index, waiting for and answering the index's
// own position (it is fed apart from the SQL read models).
func registerSearch(a *app, side *searchSide) {
	pos := querykit.ModelPosition{Model: side.index}
	kit := querykit.New(querykit.Config{Waiter: pos, Position: pos, MaxWait: a.cfg.QueryMaxWait, Log: a.log, Stopping: a.stopping})
	searchapi.Register(kit.Stamped(a.mux), kit, side.index)
}

// replaySearch rebuilds the index from the log beside the live one and swaps it in
// (soc replay --projection search): searches never see a half-built index.
func replaySearch(ctx context.Context, cfg *Config, t *readTool) (search.RebuildResult, string, error) {
	ix, backend, closeIx, err := openSearchIndex(ctx, cfg)
	if err != nil {
		return search.RebuildResult{}, "", err
	}
	defer closeIx()
	res, err := search.Rebuild(ctx, ix, ix, t.store, cfg.ProjectionBatch)
	return res, backend, err
}

// printSearchStatus prints the search index's line of soc projections status: its position
// and how far it trails the store's head.
func printSearchStatus(ctx context.Context, cfg *Config, t *readTool, w io.Writer, asJSON bool) error {
	ix, backend, closeIx, err := openSearchIndex(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeIx()
	return printOwnPositionStatus(ctx, t, w, asJSON, searchName, backend, ix.Position)
}

// printOwnPositionStatus prints the soc projections status line of a projection that keeps its
// position in its own backend (logProjector): the position and how far it trails the store's
// head; its generations are the backend's own.
func printOwnPositionStatus(ctx context.Context, t *readTool, w io.Writer, asJSON bool, name, backend string, position func(context.Context) (int64, error)) error {
	pos, err := position(ctx)
	if err != nil {
		return err
	}
	head, err := t.store.HeadPosition(ctx)
	if err != nil {
		return err
	}
	lag := max(head-pos, 0)
	if asJSON {
		b, _ := json.Marshal(map[string]any{"name": name, "backend": backend, "position": pos, "lag_events": lag})
		fmt.Fprintln(w, string(b))
		return nil
	}
	fmt.Fprintf(w, "%-12s %4s %12d %10d %10s  %s\n", name, "-", pos, lag, "-", "ok ("+backend+": soc replay --projection "+name+" rebuilds it)")
	return nil
}
