package queryapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/scans"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/query-api/openapi"
	"github.com/socplatform/soc/schemas/problem"
)

// Reader is what the finding and CVE endpoints need from the vulns read model
// (projections/vulns' Reader implements it).
// Errors: readkit.ErrNotFound (404) and *readkit.QueryError (400 naming its parameter).
type Reader interface {
	Finding(ctx context.Context, id string) (*vulns.Finding, error)
	Findings(ctx context.Context, q vulns.FindingQuery) (readkit.Page[vulns.Finding], error)
	CVE(ctx context.Context, id string) (*vulns.CVE, error)
}

// AssetReader is what the asset endpoints need from the assets read model (projections/assets'
// Reader implements it), with the same errors as Reader.
type AssetReader interface {
	Asset(ctx context.Context, id string) (*assets.Asset, error)
	Assets(ctx context.Context, q assets.Query) (readkit.Page[assets.Asset], error)
}

// ScanReader is what the scan endpoints need from the scans read model (projections/scans'
// Reader implements it), with the same errors as Reader.
type ScanReader interface {
	Scan(ctx context.Context, id string) (*scans.Scan, error)
	Scans(ctx context.Context, q scans.Query) (readkit.Page[scans.Scan], error)
}

// Waiter reports when the read models have applied every event up to a global position
// (read-your-writes). WaitFor returns nil once they have — at once, without blocking and even
// with an expired ctx, when they already have — and ctx's error when ctx ends first.
type Waiter interface {
	WaitFor(ctx context.Context, pos int64) error
}

// DefaultMaxWait bounds how long a read waits for min_position unless Config says otherwise.
const DefaultMaxWait = 5 * time.Second

// Config of the query API.
type Config struct {
	// Reader serves the finding and CVE endpoints (required).
	Reader Reader
	// Assets serves the asset endpoints (required).
	Assets AssetReader
	// Scans serves the scan endpoints (required).
	Scans ScanReader
	// Store serves stream reads and point-in-time reads (required; the guarded store, so events
	// are upcast).
	Store events.EventStore
	// Querier serves the audit trail GET /v1/events; nil answers it 501.
	Querier events.EventQuerier
	// Waiter serves min_position; nil means no projection runs on this node and a read that
	// asks for a position answers 503.
	Waiter Waiter
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
	// without a cache. See cache.go.
	Version func() int64
	// CacheBytes bounds the response cache's memory (bodies, keys and tags), evicting the least
	// recently used answers: 0 is DefaultCacheBytes, negative turns the cache off. Bodies over
	// MaxCachedBody are never kept.
	CacheBytes int64
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

// API serves the read endpoints.
type API struct {
	cfg   Config
	log   *slog.Logger
	cache *responseCache // nil: off
}

// New checks cfg and returns the API.
func New(cfg Config) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Version != nil && cfg.CacheBytes == 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	a := &API{cfg: cfg, log: log}
	if cfg.Version != nil && cfg.CacheBytes > 0 {
		a.cache = newResponseCache(cfg.CacheBytes)
	}
	return a, nil
}

// Routes are the mux patterns Register adds, in order.
var Routes = []string{
	"GET /v1/assets",
	"GET /v1/assets/{id}",
	"GET /v1/findings",
	"GET /v1/findings/{id}",
	"GET /v1/scans",
	"GET /v1/scans/{id}",
	"GET /v1/cves/{id}",
	"GET /v1/streams/{stream_id}/events",
	"GET /v1/events",
	"GET /openapi.json",
}

// Register adds the read routes (Routes) to mux.
func (a *API) Register(mux Mux) { a.register(mux) }

// Mux is the part of *http.ServeMux that Register uses (the node and tests record the patterns).
type Mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

func (a *API) register(mux Mux) {
	handlers := []http.HandlerFunc{
		a.listAssets, a.getAsset,
		a.listFindings, a.getFinding,
		a.listScans, a.getScan,
		a.getCVE,
		a.streamEvents,
		a.auditEvents,
		serveOpenAPI,
	}
	for i, p := range Routes {
		mux.HandleFunc(p, handlers[i])
	}
}

// serveOpenAPI serves the OpenAPI document as application/json: the media type every client,
// browser and Swagger UI accepts; application/openapi+json is not a registered media type
// (application/vnd.oai.openapi+json is, but tools rarely ask for it). It is revalidated by ETag.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	if err := newParams(r, "GET /openapi.json").err(); err != nil {
		problem.Error(w, r, nil, err)
		return
	}
	writeBody(w, r, http.StatusOK, "application/json", openapi.Spec())
}

// fail answers err through the platform's one error mapping, after translating the read
// models' errors into it.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var qe *readkit.QueryError
	switch {
	case errors.As(err, &qe):
		err = &problem.ParamError{Params: []problem.InvalidParam{{Name: qe.Param, Reason: qe.Reason}}}
	case errors.Is(err, readkit.ErrNotFound):
		err = problem.NotFound("no such resource: %s", r.URL.Path)
	case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil:
		err = problem.Unavailable(0, "the read model did not answer in time")
	}
	problem.Error(w, r, a.log, err)
}
