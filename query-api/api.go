package queryapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/vulns"
	analyticsapi "github.com/socplatform/soc/query-api/analytics"
	assetsapi "github.com/socplatform/soc/query-api/assets"
	"github.com/socplatform/soc/query-api/openapi"
	"github.com/socplatform/soc/query-api/querykit"
	scansapi "github.com/socplatform/soc/query-api/scans"
	vulnsapi "github.com/socplatform/soc/query-api/vulns"
	"github.com/socplatform/soc/schemas/problem"
)

// CacheStats are the response cache's counters.
type CacheStats = querykit.CacheStats

// DefaultMaxWait bounds how long a read waits for min_position unless Config says otherwise.
const DefaultMaxWait = querykit.DefaultMaxWait

// Config of the query API.
type Config struct {
	// Reader serves the finding and CVE endpoints (required).
	Reader vulnsapi.Reader
	// Assets serves the asset endpoints (required), and tells who owns a stream for team
	// scoping (details, as_of, the stream and audit endpoints).
	Assets assetsapi.Reader
	// Scans serves the scan endpoints (required).
	Scans scansapi.Reader
	// Analytics serves GET /v1/analytics/ (nil: those routes answer 501). Its routes wait for
	// and answer the analytics model's own position, not Waiter's and Position's.
	Analytics analyticsapi.Reader
	// AnalyticsPosition, when set, is what the analytics routes wait for and answer instead of
	// the model's own Position (the runner of a model it feeds knows it has passed the events
	// the model does not fold).
	AnalyticsPosition interface {
		querykit.Waiter
		querykit.Positioner
	}
	// Store serves stream reads and point-in-time reads (required; the guarded store, so events
	// are upcast).
	Store events.EventStore
	// Querier serves the audit trail GET /v1/events; nil answers it 501.
	Querier events.EventQuerier
	// Waiter serves min_position; nil means no projection runs on this node and a read that
	// asks for a position answers 503.
	Waiter querykit.Waiter
	// FoldAsset and FoldFinding rebuild one asset or finding from its stream for as_of reads;
	// nil answers as_of with 501.
	FoldAsset   func([]events.Envelope) (*assets.Asset, error)
	FoldFinding func([]events.Envelope) (*vulns.Finding, error)
	// MaxWait caps a min_position wait (default DefaultMaxWait).
	MaxWait time.Duration
	// Log receives server errors (5xx); nil discards them.
	Log *slog.Logger
	// Now is the clock (default time.Now): overdue findings, the as_of skew check, the
	// response cache's expiry of findings that fall due.
	Now func() time.Time
	// Version turns the response cache on (nil: off): a number that increases whenever any
	// read model the Reader serves has committed a change. It must increase only once the
	// change is visible to the Reader, and before the Waiter reports the change's position
	// reached; a read model updated by another process must count too, or be served
	// without a cache. See querykit/cache.go.
	Version func() int64
	// CacheBytes bounds the response cache's memory (bodies, keys and tags), evicting the least
	// recently used answers: 0 is querykit.DefaultCacheBytes, negative turns the cache off. Bodies
	// over querykit.MaxCachedBody are never kept.
	CacheBytes int64
	// Position is how far the read models have applied the log: every GET answers it in
	// querykit.ReadPositionHeader and GET /v1/read-position long-polls it; nil leaves both out
	// (the route answers 503).
	Position querykit.Positioner
	// Stopping ends when the node begins to shut down (it ends the long polls); nil: never.
	Stopping context.Context
}

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Reader == nil {
		errs = append(errs, errors.New("queryapi: Reader is required"))
	}
	if c.Assets == nil {
		errs = append(errs, errors.New("queryapi: Assets is required"))
	}
	if c.Scans == nil {
		errs = append(errs, errors.New("queryapi: Scans is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("queryapi: Store is required"))
	}
	if c.MaxWait < 0 {
		errs = append(errs, errors.New("queryapi: MaxWait must not be negative"))
	}
	return errors.Join(errs...)
}

// API serves the read endpoints: each context's, mounted together, and the event store's.
type API struct {
	cfg       Config
	kit       *querykit.Kit
	analytics *querykit.Kit // the kit of the analytics routes: the analytics model's position
}

// New checks cfg and returns the API.
func New(cfg Config) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	analytics := querykit.Config{MaxWait: cfg.MaxWait, Log: cfg.Log, Now: cfg.Now, Stopping: cfg.Stopping}
	switch {
	case cfg.AnalyticsPosition != nil:
		analytics.Waiter, analytics.Position = cfg.AnalyticsPosition, cfg.AnalyticsPosition
	case cfg.Analytics != nil:
		pos := querykit.ModelPosition{Model: cfg.Analytics}
		analytics.Waiter, analytics.Position = pos, pos
	}
	return &API{cfg: cfg, analytics: querykit.New(analytics), kit: querykit.New(querykit.Config{
		Store:      cfg.Store,
		Waiter:     cfg.Waiter,
		MaxWait:    cfg.MaxWait,
		Log:        cfg.Log,
		Now:        cfg.Now,
		Version:    cfg.Version,
		CacheBytes: cfg.CacheBytes,
		Owners:     cfg.Assets,
		Position:   cfg.Position,
		Stopping:   cfg.Stopping,
	})}, nil
}

// storeRoutes are the routes this package serves itself: the event store's and the document.
var storeRoutes = []string{
	"GET /v1/streams/{stream_id}/events",
	"GET /v1/events",
	"GET /openapi.json",
	querykit.ReadPositionRoute,
}

// Routes are the mux patterns Register adds, in order.
var Routes = slices.Concat(assetsapi.Routes, vulnsapi.Routes, scansapi.Routes, analyticsapi.Routes, storeRoutes)

// Register adds the read routes (Routes) to mux; every GET among them answers the read position.
func (a *API) Register(mux querykit.Mux) {
	raw := mux
	mux = a.kit.Stamped(mux)
	assetsapi.Register(mux, a.kit, a.cfg.Assets, a.cfg.FoldAsset)
	vulnsapi.Register(mux, a.kit, a.cfg.Reader, a.cfg.FoldFinding)
	scansapi.Register(mux, a.kit, a.cfg.Scans)
	analyticsapi.Register(a.analytics.Stamped(raw), a.analytics, a.cfg.Analytics)
	querykit.Handle(mux, storeRoutes, a.streamEvents, a.auditEvents, serveOpenAPI, a.kit.ReadPosition)
}

// CacheStats reports the response cache's counters (cmd/soc exports them as metrics).
func (a *API) CacheStats() CacheStats { return a.kit.CacheStats() }

// serveOpenAPI serves the OpenAPI document as application/json: the media type every client,
// browser and Swagger UI accepts; application/openapi+json is not a registered media type
// (application/vnd.oai.openapi+json is, but tools rarely ask for it). It is revalidated by ETag.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	if err := querykit.NewParams(r, storeRoutes[2]).Err(); err != nil {
		problem.Error(w, r, nil, err)
		return
	}
	querykit.WriteBody(w, r, http.StatusOK, "application/json", openapi.Spec())
}
