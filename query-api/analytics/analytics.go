// Package analytics serves the analytics read model (projections/analytics) under
// GET /v1/analytics/: open findings, flow, MTTR, SLA, risk, top assets, exploitability and
// scanner coverage, each over a period cut into time-zone-aware buckets and narrowed by the
// same filters.
//
// Team scoping: the model's Filter.Scope is set from the caller's principal (querykit.ScopeOf),
// never from the request, so a remediator's every number covers its teams' assets only.
//
// Read-your-writes: the analytics model may be fed apart from the other read models (on
// ClickHouse it is), so these routes wait for and answer the model's own position
// (Reader.Position), not the other read models'.
package analytics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	model "github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/query-api/openapi"
	"github.com/socplatform/soc/query-api/querykit"
	"github.com/socplatform/soc/schemas/problem"
)

// Reader is what the endpoints need: the analytics model's reader (both backends implement it).
type Reader = model.Reader

// Routes are the mux patterns Register adds, in order.
var Routes = []string{
	"GET /v1/analytics/open-findings",
	"GET /v1/analytics/flow",
	"GET /v1/analytics/mttr",
	"GET /v1/analytics/sla",
	"GET /v1/analytics/risk",
	"GET /v1/analytics/top-assets",
	"GET /v1/analytics/exploitability",
	"GET /v1/analytics/coverage",
}

// DefaultPeriod is the period a query without from covers: the last 90 days.
const DefaultPeriod = 90 * 24 * time.Hour

// maxDays bounds due_within and stale_after (the model's own bounds, in days).
const (
	maxDueDays   = int64(model.MaxDueIn / (24 * time.Hour))
	maxStaleDays = int64(model.MaxStale / (24 * time.Hour))
)

// Answer is every endpoint's body: the period and buckets asked, the instant "now" answers
// refer to, and the view's result.
type Answer struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Bucket string    `json:"bucket"`
	TZ     string    `json:"tz"`
	Now    time.Time `json:"now"`
	Result any       `json:"result"`
}

// Register adds Routes to mux. kit must wait for and stamp the analytics model's position
// (NewKitConfig).
func Register(mux querykit.Mux, kit *querykit.Kit, reader Reader) {
	a := &api{kit: kit, reader: reader}
	handlers := make([]http.HandlerFunc, len(Routes))
	for i, route := range Routes {
		view := views[strings.TrimPrefix(route, "GET /v1/analytics/")]
		handlers[i] = a.handler(route, view)
	}
	querykit.Handle(mux, Routes, handlers...)
}

// view answers one endpoint from the reader.
type view func(ctx context.Context, r Reader, q model.Query, o model.Options) (any, error)

var views = map[string]view{
	"open-findings": func(ctx context.Context, r Reader, q model.Query, _ model.Options) (any, error) {
		return r.OpenFindings(ctx, q)
	},
	"flow": func(ctx context.Context, r Reader, q model.Query, _ model.Options) (any, error) {
		return r.Flow(ctx, q)
	},
	"mttr": func(ctx context.Context, r Reader, q model.Query, _ model.Options) (any, error) {
		return r.MTTR(ctx, q)
	},
	"sla": func(ctx context.Context, r Reader, q model.Query, o model.Options) (any, error) {
		return r.SLA(ctx, q, o)
	},
	"risk": func(ctx context.Context, r Reader, q model.Query, o model.Options) (any, error) {
		return r.Risk(ctx, q, o)
	},
	"top-assets": func(ctx context.Context, r Reader, q model.Query, o model.Options) (any, error) {
		return r.TopAssets(ctx, q, o)
	},
	"exploitability": func(ctx context.Context, r Reader, q model.Query, o model.Options) (any, error) {
		return r.Exploitability(ctx, q, o)
	},
	"coverage": func(ctx context.Context, r Reader, q model.Query, o model.Options) (any, error) {
		return r.Coverage(ctx, q, o)
	},
}

type api struct {
	kit    *querykit.Kit
	reader Reader
}

var resource = querykit.Resource[Answer]{Name: "analytics"}

func (a *api) handler(route string, v view) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := querykit.NewParams(r, route)
		q, o := parse(p, a.kit.Now())
		// Every answer depends on the clock ("open now", "overdue", the default period), not
		// only on the model: the response cache must not keep it.
		p.Volatile = true
		querykit.Get(a.kit, w, r, p, resource, func() (*Answer, error) {
			if a.reader == nil {
				return nil, problem.NotImplemented("this node serves no analytics model")
			}
			res, err := v(r.Context(), a.reader, q, o)
			if err != nil {
				return nil, modelError(err)
			}
			tz := "UTC"
			if q.Location != nil {
				tz = q.Location.String()
			}
			return &Answer{From: q.From, To: q.To, Bucket: string(q.Unit), TZ: tz, Now: q.Now, Result: res}, nil
		})
	}
}

// filterParams maps the model's filter names (in its ParamErrors) to the query parameters.
var filterParams = map[string]string{
	"tags": "tags", "teams": "team", "environments": "environment", "asset_kinds": "asset_kind",
	"scanners": "scanner", "severities": "severity",
}

// modelError translates the model's errors into the platform's problems: a *ParamError
// names the request's parameter, ErrUnavailable is a 503.
func modelError(err error) error {
	var pe *model.ParamError
	switch {
	case errors.As(err, &pe):
		name := pe.Param
		if n, ok := filterParams[name]; ok {
			name = n
		}
		return &problem.ParamError{Params: []problem.InvalidParam{{Name: name, Reason: pe.Reason}}}
	case errors.Is(err, model.ErrUnavailable):
		return problem.Unavailable(5*time.Second, "the analytics model is unavailable: %v", err)
	}
	return err
}

// dateOnly is a from/to given as a calendar day (midnight in tz).
var dateOnly = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// scannerName is what a scanner filter value must look like (a report format name).
var scannerName = querykit.ReportFormat

// parse reads the query's parameters; failures are collected in p.
func parse(p *querykit.Params, now time.Time) (model.Query, model.Options) {
	q := model.Query{Now: now, Unit: model.Month, Location: time.UTC}
	if tz, ok := p.One("tz"); ok {
		loc, err := loadLocation(tz)
		if err != nil {
			p.Add("tz", fmt.Sprintf("unknown time zone %q: want an IANA name such as Europe/Paris", tz))
		} else {
			q.Location = loc
		}
	}
	if b := p.Enum("bucket", []string{string(model.Day), string(model.Week), string(model.Month)}); b != "" {
		q.Unit = model.Unit(b)
	}
	q.From = instant(p, "from", q.Location)
	q.To = instant(p, "to", q.Location)
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-DefaultPeriod)
	}
	if p.Has("from") || p.Has("to") {
		p.TimeRange("from", q.From, "to", q.To)
	}
	q.Tags = p.List("tags", func(string) string { return "" })
	q.Teams = p.List("team", func(string) string { return "" })
	q.Environments = p.EnumList("environment", openapi.Environments)
	q.AssetKinds = p.EnumList("asset_kind", openapi.AssetKinds)
	q.Scanners = p.List("scanner", func(v string) string {
		if !scannerName.MatchString(v) {
			return "must be " + querykit.ReportFormatWant
		}
		return ""
	})
	q.Severities = p.EnumList("severity", model.Severities)
	q.Scope = p.Scope()

	var o model.Options
	if n, ok := p.Integer("limit", 1, model.MaxLimit); ok {
		o.Limit = int(n)
	}
	if n, ok := p.Integer("due_within", 1, maxDueDays); ok {
		o.DueWithin = time.Duration(n) * 24 * time.Hour
	}
	if n, ok := p.Integer("stale_after", 1, maxStaleDays); ok {
		o.StaleAfter = time.Duration(n) * 24 * time.Hour
	}
	// The model's own checks (bucket count, filter bounds) run before the read, so that a bad
	// parameter is a 400 naming it whatever the backend.
	if len(problemsOf(p)) == 0 {
		if _, _, err := model.Prepare(q); err != nil {
			addModelError(p, err)
		}
		if _, err := o.Check(); err != nil {
			addModelError(p, err)
		}
	}
	return q, o
}

// problemsOf is the parameters p has failed so far.
func problemsOf(p *querykit.Params) []problem.InvalidParam {
	var pe *problem.ParamError
	if errors.As(p.Err(), &pe) {
		return pe.Params
	}
	return nil
}

func addModelError(p *querykit.Params, err error) {
	var pe *problem.ParamError
	if errors.As(modelError(err), &pe) {
		for _, ip := range pe.Params {
			p.Add(ip.Name, ip.Reason)
		}
		return
	}
	p.Add("query", err.Error())
}

// loadLocation is time.LoadLocation of an IANA name; "Local" and names with path tricks are
// refused (the zone database is read from disk by name).
func loadLocation(name string) (*time.Location, error) {
	if name == "Local" || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		return nil, errors.New("not an IANA time zone name")
	}
	return time.LoadLocation(name)
}

// instant parses from/to: an RFC 3339 date-time, or a YYYY-MM-DD day meaning its midnight in loc.
func instant(p *querykit.Params, name string, loc *time.Location) time.Time {
	v, ok := p.One(name)
	if !ok {
		return time.Time{}
	}
	if dateOnly.MatchString(v) {
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err == nil {
			return t.UTC()
		}
	} else if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC()
	}
	p.Add(name, "must be an RFC 3339 date-time (2025-01-31T12:00:00Z) or a date (2025-01-31, midnight in tz)")
	return time.Time{}
}
