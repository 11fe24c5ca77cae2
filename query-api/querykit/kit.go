package querykit

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/schemas/problem"
)

// Waiter reports when the read models have applied every event up to a global position
// (read-your-writes). WaitFor returns nil once they have — at once, without blocking and even
// with an expired ctx, when they already have — and ctx's error when ctx ends first.
type Waiter interface {
	WaitFor(ctx context.Context, pos int64) error
}

// Mux is the part of *http.ServeMux that the contexts register their routes on (the node and
// tests record the patterns).
type Mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// DefaultMaxWait bounds how long a read waits for min_position unless Config says otherwise.
const DefaultMaxWait = 5 * time.Second

// DefaultListLimit is the page size of a list that does not ask for one.
const DefaultListLimit = 50

// Config of the kit: what every context's reads share.
type Config struct {
	// Store serves point-in-time reads (the guarded store, so events are upcast; required by
	// PointInTime).
	Store events.EventStore
	// Waiter serves min_position; nil means no projection runs on this node and a read that
	// asks for a position answers 503.
	Waiter Waiter
	// MaxWait caps a min_position wait (0: DefaultMaxWait).
	MaxWait time.Duration
	// Log receives server errors (5xx); nil discards them.
	Log *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Version turns the response cache on (nil: off); see cache.go.
	Version func() int64
	// CacheBytes bounds the response cache's memory: 0 is DefaultCacheBytes, negative turns
	// the cache off.
	CacheBytes int64
	// Owners serves team scoping of single reads (GetAt); required as soon as a scoped
	// principal reads one (see scope.go).
	Owners Owners
	// Position serves the read-position header and GET /v1/read-position (see position.go);
	// nil: no header, and the route answers 503.
	Position Positioner
	// Stopping ends when the node begins to shut down: a read-position long poll answers then
	// instead of holding the shutdown up.
	Stopping context.Context
}

// Kit answers the contexts' reads: parameter errors, read-your-writes waits, the response
// cache, ETags and problem responses, the same for every context.
type Kit struct {
	cfg   Config
	log   *slog.Logger
	cache *responseCache // nil: off
}

// New returns the kit with cfg's defaults filled in.
func New(cfg Config) *Kit {
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
	k := &Kit{cfg: cfg, log: log}
	if cfg.Version != nil && cfg.CacheBytes > 0 {
		k.cache = newResponseCache(cfg.CacheBytes)
	}
	return k
}

// Now is the kit's clock.
func (k *Kit) Now() time.Time { return k.cfg.Now() }

// Fail answers err through the platform's one error mapping, after translating the read
// models' errors into it.
func (k *Kit) Fail(w http.ResponseWriter, r *http.Request, err error) {
	var qe *readkit.QueryError
	switch {
	case errors.As(err, &qe):
		err = &problem.ParamError{Params: []problem.InvalidParam{{Name: qe.Param, Reason: qe.Reason}}}
	case errors.Is(err, readkit.ErrNotFound):
		err = problem.NotFound("no such resource: %s", r.URL.Path)
	case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil:
		err = problem.Unavailable(0, "the read model did not answer in time")
	}
	problem.Error(w, r, k.log, err)
}

// Resource describes one read model's rows to ListPage and Get.
type Resource[T any] struct {
	// Name binds cursors to the resource ("findings").
	Name string
	// Sorts are the sort fields; the first is the default (descending).
	Sorts []string
	// Expires is when a row stops being true without the read model changing (zero: only a
	// change ends it); nil: never. The response cache drops an answer holding it then.
	Expires func(*T) time.Time
}

// expires is the earliest expiry of rows (zero: none).
func (res Resource[T]) expires(rows ...*T) time.Time {
	var t time.Time
	if res.Expires == nil {
		return t
	}
	for _, row := range rows {
		if e := res.Expires(row); !e.IsZero() && (t.IsZero() || e.Before(t)) {
			t = e
		}
	}
	return t
}

// listResponse is one page of a list.
type listResponse[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	Next       string `json:"next,omitempty"`
}

// ListPage finishes a list whose filters p has parsed: paging parameters, read-your-writes, the
// read, the page. filters is the parsed query without its paging and clock fields (cursors
// are bound to its hash).
func ListPage[T any](k *Kit, w http.ResponseWriter, r *http.Request, p *Params, res Resource[T], filters any,
	read func(readkit.List) (readkit.Page[T], error)) {
	hash := filterHash(res.Name, filters)
	var l readkit.List
	var canon string
	l.Sort, l.Desc, canon = p.sort(res.Sorts)
	l.Limit = p.Limit(DefaultListLimit, readkit.MaxLimit)
	l.After = p.cursor(canon, hash)
	if !k.ready(w, r, p) {
		return
	}
	k.serve(w, r, p, func() ([]byte, time.Time, error) {
		page, err := read(l)
		if err != nil {
			return nil, time.Time{}, err
		}
		resp := listResponse[T]{Items: page.Items}
		if resp.Items == nil {
			resp.Items = []T{}
		}
		if page.Next != nil {
			resp.NextCursor = encodeCursor(cursor{K: *page.Next, S: canon, F: hash})
			resp.Next = p.NextURL(map[string]string{"cursor": resp.NextCursor}, "min_position", "wait")
		}
		rows := make([]*T, len(resp.Items))
		for i := range resp.Items {
			rows[i] = &resp.Items[i]
		}
		b, err := marshalBody(resp)
		return b, res.expires(rows...), err
	})
}

// Get finishes a single-row read whose parameters p has parsed: read-your-writes, the read,
// the answer (404 when read finds nothing). It does not scope: a row owned by a team is read
// with GetAt, and read must answer ErrNotFound for a row of another kind the principal may not see.
func Get[T any](k *Kit, w http.ResponseWriter, r *http.Request, p *Params, res Resource[T], read func() (*T, error)) {
	get(k, w, r, p, res, "", read)
}

// get is Get of the row of stream id, 404 when the principal's teams do not own it ("": no
// ownership).
func get[T any](k *Kit, w http.ResponseWriter, r *http.Request, p *Params, res Resource[T], id string, read func() (*T, error)) {
	if !k.ready(w, r, p) {
		return
	}
	k.serve(w, r, p, func() ([]byte, time.Time, error) {
		// The ownership check is part of the answer the cache keeps: a cached one was made for
		// the same scope (cacheKey ends with scopeKey) at the same read-model version, which
		// holds the ownership, so a hit skips the check's query.
		if id != "" {
			if err := k.mayRead(r.Context(), id, readkit.ErrNotFound); err != nil {
				return nil, time.Time{}, err
			}
		}
		v, err := read()
		if err == nil && v == nil {
			err = readkit.ErrNotFound
		}
		if err != nil {
			return nil, time.Time{}, err
		}
		b, err := marshalBody(v)
		return b, res.expires(v), err
	})
}

// ready checks the parameters p has parsed, with the read-your-writes ones, and waits for the
// position they ask; false when it has answered instead (400, 503).
func (k *Kit) ready(w http.ResponseWriter, r *http.Request, p *Params) bool {
	c := p.consistency(k.cfg.MaxWait)
	if err := p.Err(); err != nil {
		k.Fail(w, r, err)
		return false
	}
	return k.await(w, r, c)
}

// Handle adds routes[i] → handlers[i] to mux: the contexts' Register.
func Handle(mux Mux, routes []string, handlers ...http.HandlerFunc) {
	if len(routes) != len(handlers) {
		panic("querykit.Handle: the routes and their handlers differ in number")
	}
	for i, h := range handlers {
		mux.HandleFunc(routes[i], h)
	}
}
