package reporting

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/query-api/reporting/render"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// Store is the part of the event store the service uses (the guarded store implements it):
// it appends the reporting events and, at start, reads them back by type, which the stores
// answer from their type index rather than by replaying $all.
type Store interface {
	Append(ctx context.Context, streamID string, expected events.ExpectedVersion, evs []events.Envelope) (events.AppendResult, error)
	QueryEvents(ctx context.Context, q events.EventQuery) ([]events.Envelope, error)
}

// Config of the reporting service.
type Config struct {
	Store Store // required
	// Analytics answers every section but the findings list; nil: those sections fail
	// (analytics.ErrUnavailable) until the node has an analytics read model.
	Analytics analytics.Reader
	Findings  FindingLister // required
	// Renderers are the formats this node generates; a request for another is a 400 naming
	// format.
	Renderers []render.Renderer
	// Dir is the data directory: documents are written to Dir/reports/<id>.<ext>. Required.
	Dir string
	// Workers bounds the reports generated at once (default 2): a report reads the read models
	// hard, and the node serves requests meanwhile.
	Workers int
	// MaxPending bounds the reports requested and not yet finished (default 100): beyond, a
	// request answers 503 and appends nothing.
	MaxPending int
	// Notifier delivers the scheduled reports (nil: they are generated and recorded as delivered
	// to nobody).
	Notifier Notifier
	// BaseURL is the platform's public URL, for the links to a report's file (--public-url).
	BaseURL string
	// MaxAttachment is the largest file e-mailed as an attachment (default DefaultMaxAttachment);
	// a larger one is sent as a link.
	MaxAttachment int64
	Now           func() time.Time // default time.Now
	Log           *slog.Logger     // nil: discarded
}

func (c *Config) validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("reporting: Store is required"))
	}
	if c.Findings == nil {
		errs = append(errs, errors.New("reporting: Findings is required"))
	}
	if c.Dir == "" {
		errs = append(errs, errors.New("reporting: Dir is required"))
	}
	if c.Workers < 0 || c.MaxPending < 0 || c.MaxAttachment < 0 {
		errs = append(errs, errors.New("reporting: Workers, MaxPending and MaxAttachment must not be negative"))
	}
	if c.Workers == 0 {
		c.Workers = 2
	}
	if c.MaxPending == 0 {
		c.MaxPending = 100
	}
	if c.MaxAttachment == 0 {
		c.MaxAttachment = DefaultMaxAttachment
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return errors.Join(errs...)
}

// Report statuses.
const (
	StatusPending   = "pending"   // requested, waiting for a worker
	StatusRunning   = "running"   // a worker builds it (in memory only: a restart makes it pending again)
	StatusGenerated = "generated" // its file is ready
	StatusFailed    = "failed"    // Reason says why
)

// Report is a report job and, once generated, its file's description.
type Report struct {
	ID           string                 `json:"id"`
	Status       string                 `json:"status"`
	Progress     int                    `json:"progress"` // percent
	Template     string                 `json:"template"`
	TemplateName string                 `json:"template_name,omitempty"`
	Format       string                 `json:"format"`
	Sections     []string               `json:"sections"`
	Filters      contracts.ReportFilter `json:"filters"`
	// Period is the period as requested, with the window it resolved to (from, to) at request time.
	Period      contracts.ReportPeriod `json:"period"`
	RequestedBy string                 `json:"requested_by"`
	RequestedAt time.Time              `json:"requested_at"`
	ScheduleID  string                 `json:"schedule_id,omitempty"`
	// ScheduledFor is the fire time a schedule requested it for.
	ScheduledFor time.Time `json:"scheduled_for,omitzero"`
	FinishedAt   time.Time `json:"finished_at,omitzero"`
	SizeBytes    int64     `json:"size_bytes,omitempty"`
	SHA256       string    `json:"sha256,omitempty"`
	Pages        int       `json:"pages,omitempty"`
	Rows         int       `json:"rows,omitempty"`
	Truncated    bool      `json:"truncated,omitempty"`
	DurationMS   int       `json:"duration_ms,omitempty"`
	Reason       string    `json:"reason,omitempty"`
	// Deliveries are a scheduled report's deliveries (ReportDelivered), once it was delivered.
	Deliveries []contracts.ReportDeliveredDelivery `json:"deliveries,omitempty"`

	version    int64
	delivered  bool
	delivering bool
	branding   contracts.ReportBranding
	allTeams   bool
	teams      []string
}

// Request is one report to generate: what POST /v1/reports asks, and what the scheduler (a
// later task) will ask for each schedule, with the schedule's owner as By.
type Request struct {
	Template   string
	Format     string
	Filters    *contracts.ReportFilter // nil: the template's
	Period     *contracts.ReportPeriod // nil: the template's
	By         access.Principal        // the requester: the report covers what it may see
	ScheduleID string
	// ScheduledFor, with ScheduleID, is the fire time: the report's id is derived from both, so
	// a fire time is requested once (see FireDue).
	ScheduledFor time.Time
}

// Service runs the reporting context: templates, report jobs, their workers and files. Its
// state is a fold of the reporting events, rebuilt at Start and kept by the events it appends
// itself; the node that runs it is the one that generates and serves the reports (their files
// are in its data directory).
type Service struct {
	cfg       Config
	builder   Builder
	renderers map[string]render.Renderer

	mu        sync.Mutex
	reports   map[string]*Report
	order     []string // report ids in request order
	templates map[string]*Template
	schedules map[string]*Schedule
	lastFired map[string]time.Time // schedule id: the last fire time requested
	queue     []string
	schedWake chan struct{}
	wake      chan struct{}
	workers   sync.WaitGroup
}

// NewService checks cfg and returns the service; call Start.
func NewService(cfg Config) (*Service, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, builder: Builder{Analytics: cfg.Analytics, Findings: cfg.Findings},
		renderers: map[string]render.Renderer{}, reports: map[string]*Report{}, templates: map[string]*Template{},
		schedules: map[string]*Schedule{}, lastFired: map[string]time.Time{},
		wake: make(chan struct{}, 1), schedWake: make(chan struct{}, 1)}
	for _, r := range cfg.Renderers {
		s.renderers[string(r.Format())] = r
	}
	return s, nil
}

// reportingTypes are the events the service folds.
var reportingTypes = []string{contracts.TypeReportRequested, contracts.TypeReportGenerated, contracts.TypeReportFailed,
	contracts.TypeReportTemplateSaved, contracts.TypeReportTemplateDeleted, contracts.TypeReportDelivered,
	contracts.TypeReportScheduleSaved, contracts.TypeReportScheduleDeleted}

// Start rebuilds the state from the reporting events, removes the partial files a stopped node
// left, queues the reports requested and never finished (a node stopped before generating them)
// and starts the workers, which run until ctx ends (Wait waits for them).
func (s *Service) Start(ctx context.Context) error {
	for after := int64(0); ; {
		page, err := s.cfg.Store.QueryEvents(ctx, events.EventQuery{Types: reportingTypes, After: after, Limit: events.MaxQueryLimit})
		if err != nil {
			return fmt.Errorf("reporting: reading the reporting events: %w", err)
		}
		if len(page) == 0 {
			break
		}
		s.mu.Lock()
		for i := range page {
			if err := s.apply(&page[i]); err != nil {
				s.mu.Unlock()
				return err
			}
		}
		s.mu.Unlock()
		after = page[len(page)-1].GlobalPosition
	}
	if err := os.MkdirAll(s.dir(), 0o750); err != nil {
		return fmt.Errorf("reporting: %w", err)
	}
	if partial, err := filepath.Glob(filepath.Join(s.dir(), tmpPrefix+"*")); err == nil {
		for _, p := range partial {
			_ = os.Remove(p)
		}
	}
	s.mu.Lock()
	var undelivered []string
	for _, id := range s.order {
		switch r := s.reports[id]; {
		case r.Status == StatusPending:
			s.queue = append(s.queue, id)
		case r.Status == StatusGenerated && r.ScheduleID != "" && !r.delivered:
			undelivered = append(undelivered, id) // stopped between generating and delivering it
		}
	}
	if len(s.queue) > 0 {
		s.cfg.Log.Info("reporting: resuming reports requested before the restart", "pending", len(s.queue))
	}
	s.mu.Unlock()
	for range s.cfg.Workers {
		s.workers.Go(func() { s.work(ctx) })
	}
	s.workers.Go(func() {
		for _, id := range undelivered {
			s.deliver(ctx, id)
		}
	})
	s.workers.Go(func() { s.runScheduler(ctx) })
	s.signal()
	return nil
}

// Wait blocks until the workers have stopped (Start's ctx ended). A report being generated
// then stays pending: the next start generates it.
func (s *Service) Wait() { s.workers.Wait() }

func (s *Service) dir() string { return filepath.Join(s.cfg.Dir, "reports") }

// apply folds one reporting event into the state (s.mu held). Events at or below a stream's
// known version were applied already and change nothing.
func (s *Service) apply(e *events.Envelope) error {
	decode := func(v any) error {
		if err := json.Unmarshal(e.Data, v); err != nil {
			return fmt.Errorf("reporting: event %s (%s) of %s: %w", e.EventID, e.Type, e.StreamID, err)
		}
		return nil
	}
	switch e.Type {
	case contracts.TypeReportRequested:
		var d contracts.ReportRequested
		if err := decode(&d); err != nil {
			return err
		}
		if _, ok := s.reports[e.StreamID]; ok {
			return nil
		}
		r := &Report{ID: e.StreamID, Status: StatusPending, Template: d.Template, TemplateName: d.TemplateName,
			Format: string(d.Format), Sections: d.Sections, Period: d.Period, RequestedBy: d.RequestedBy,
			RequestedAt: e.RecordedAt, ScheduleID: d.ScheduleID, ScheduledFor: d.ScheduledFor, version: e.Version,
			allTeams: d.AllTeams != nil && *d.AllTeams, teams: d.Teams}
		if d.Filters != nil {
			r.Filters = *d.Filters
		}
		if d.Branding != nil {
			r.branding = *d.Branding
		}
		s.reports[r.ID] = r
		s.order = append(s.order, r.ID)
		if d.ScheduleID != "" && d.ScheduledFor.After(s.lastFired[d.ScheduleID]) {
			s.lastFired[d.ScheduleID] = d.ScheduledFor
		}
	case contracts.TypeReportGenerated:
		var d contracts.ReportGenerated
		if err := decode(&d); err != nil {
			return err
		}
		if r := s.reports[e.StreamID]; r != nil && e.Version > r.version {
			r.Status, r.Progress, r.FinishedAt, r.version = StatusGenerated, 100, e.RecordedAt, e.Version
			r.SizeBytes, r.SHA256, r.DurationMS = int64(d.SizeBytes), d.SHA256, d.DurationMs
			r.Pages, r.Rows, r.Truncated = deref(d.Pages), deref(d.Rows), d.Truncated != nil && *d.Truncated
		}
	case contracts.TypeReportFailed:
		var d contracts.ReportFailed
		if err := decode(&d); err != nil {
			return err
		}
		if r := s.reports[e.StreamID]; r != nil && e.Version > r.version {
			r.Status, r.FinishedAt, r.Reason, r.version, r.DurationMS = StatusFailed, e.RecordedAt, d.Reason, e.Version, deref(d.DurationMs)
		}
	case contracts.TypeReportTemplateSaved:
		var d contracts.ReportTemplateSaved
		if err := decode(&d); err != nil {
			return err
		}
		if t := s.templates[e.StreamID]; t != nil && e.Version <= t.Version {
			return nil
		}
		t := &Template{ID: e.StreamID, Name: d.Name, Description: d.Description, BasedOn: d.BasedOn, Sections: d.Sections,
			Period: d.Period, Version: e.Version, UpdatedAt: e.RecordedAt, UpdatedBy: e.Actor}
		if d.Filters != nil {
			t.Filters = *d.Filters
		}
		if d.Branding != nil {
			t.Branding = *d.Branding
		}
		s.templates[t.ID] = t
	case contracts.TypeReportTemplateDeleted:
		if t := s.templates[e.StreamID]; t != nil && e.Version > t.Version {
			delete(s.templates, e.StreamID)
		}
	case contracts.TypeReportDelivered:
		var d contracts.ReportDelivered
		if err := decode(&d); err != nil {
			return err
		}
		if r := s.reports[e.StreamID]; r != nil && e.Version > r.version {
			r.delivered, r.Deliveries, r.version = true, d.Deliveries, e.Version
		}
	case contracts.TypeReportScheduleSaved, contracts.TypeReportScheduleDeleted:
		return s.applySchedule(e, decode)
	}
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// appendOne appends one event to streamID and folds it into the state.
func (s *Service) appendOne(ctx context.Context, streamID string, expected events.ExpectedVersion, typ, actor string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	env := events.Envelope{Type: typ, Data: b, Actor: actor}
	res, err := s.cfg.Store.Append(ctx, streamID, expected, []events.Envelope{env})
	if err != nil {
		return err
	}
	env.StreamID, env.Version, env.RecordedAt = streamID, res.NextExpectedVersion, s.cfg.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apply(&env)
}

// ---- templates -------------------------------------------------------------------------------

// Templates returns the built-in templates, then the saved ones by name.
func (s *Service) Templates() []Template {
	s.mu.Lock()
	saved := make([]Template, 0, len(s.templates))
	for _, t := range s.templates {
		saved = append(saved, *t)
	}
	s.mu.Unlock()
	slices.SortFunc(saved, func(a, b Template) int { return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID)) })
	return append(Builtin(), saved...)
}

// errNoTemplate is the answer for a template id nobody saved (or one deleted).
func errNoTemplate(id string) error { return problem.NotFound("no report template %q", id) }

// Template returns a template by id.
func (s *Service) Template(id string) (Template, error) {
	for _, t := range Builtin() {
		if t.ID == id {
			return t, nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.templates[id]; ok {
		return *t, nil
	}
	return Template{}, errNoTemplate(id)
}

// SaveTemplate creates a template (id "") or changes one. A field the body leaves out comes
// from the template it is based on: based_on when creating (a copy), the template itself when
// changing it. Built-in templates cannot be changed or deleted: copy them.
func (s *Service) SaveTemplate(ctx context.Context, id string, body contracts.SaveReportTemplate, by access.Principal) (Template, error) {
	var base Template
	expected := events.NoStream
	var v invalid
	switch {
	case id != "":
		cur, err := s.Template(id)
		if err != nil {
			return Template{}, err
		}
		if cur.BuiltIn {
			return Template{}, problem.Conflict("the built-in template %q cannot be changed: copy it (POST /v1/report-templates with based_on)", id)
		}
		if body.BasedOn != "" && body.BasedOn != cur.BasedOn {
			v.add("/based_on", "a template's origin cannot change")
		}
		base, expected = cur, events.Exact(cur.Version)
	case body.BasedOn != "":
		b, err := s.Template(body.BasedOn)
		if err != nil {
			v.add("/based_on", "no report template %q", body.BasedOn)
		}
		base = b
		base.BasedOn = body.BasedOn
	default:
		base.Period = contracts.ReportPeriod{Kind: contracts.ReportPeriodKindLast30Days}
	}
	t := Template{Name: body.Name, Description: cmp.Or(body.Description, base.Description), BasedOn: base.BasedOn,
		Sections: base.Sections, Filters: base.Filters, Period: base.Period, Branding: base.Branding}
	if body.Sections != nil {
		t.Sections = body.Sections
	}
	if body.Filters != nil {
		t.Filters = *body.Filters
	}
	if body.Period != nil {
		t.Period = *body.Period
	}
	if body.Branding != nil {
		t.Branding = *body.Branding
	}
	validateSections(&v, "", t.Sections, t.Filters)
	validateFilter(&v, "", t.Filters)
	validateBranding(&v, "", t.Branding)
	resolvePeriod(&v, "", t.Period, s.cfg.Now())
	if err := v.err(); err != nil {
		return Template{}, err
	}
	streamID := id
	if streamID == "" {
		streamID = events.NewStreamID("reporting", "template")
	}
	d := contracts.ReportTemplateSaved{TemplateID: streamID, Name: t.Name, Description: t.Description, BasedOn: t.BasedOn,
		Sections: t.Sections, Filters: filterOrNil(t.Filters), Period: t.Period, Branding: nonZero(t.Branding)}
	if err := s.appendOne(ctx, streamID, expected, contracts.TypeReportTemplateSaved, by.Actor(), d); err != nil {
		return Template{}, err
	}
	return s.Template(streamID)
}

// DeleteTemplate deletes a saved template; the reports made from it keep what they copied.
func (s *Service) DeleteTemplate(ctx context.Context, id string, by access.Principal) error {
	cur, err := s.Template(id)
	if err != nil {
		return err
	}
	if cur.BuiltIn {
		return problem.Conflict("the built-in template %q cannot be deleted", id)
	}
	return s.appendOne(ctx, id, events.Exact(cur.Version), contracts.TypeReportTemplateDeleted, by.Actor(),
		contracts.ReportTemplateDeleted{TemplateID: id})
}

// nonZero is nil for a zero value (an absent optional object in an event), else &v.
func nonZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// filterOrNil is nil for a filter that selects everything (an absent optional object), else &f.
func filterOrNil(f contracts.ReportFilter) *contracts.ReportFilter {
	if len(f.Tags)+len(f.Teams)+len(f.Environments)+len(f.AssetKinds)+len(f.Scanners)+len(f.Severities) == 0 {
		return nil
	}
	return &f
}

// ---- reports ---------------------------------------------------------------------------------

// Request validates r, records it (ReportRequested: the job, and the auditors' record of who
// asked for what) and queues it; a worker generates it. It is the one way a report is asked
// for: POST /v1/reports calls it, and the scheduler will.
func (s *Service) Request(ctx context.Context, r Request) (Report, error) {
	var v invalid
	if _, ok := s.renderers[r.Format]; !ok {
		v.add("/format", "this node generates %v", cmp.Or(strings.Join(slices.Sorted(maps.Keys(s.renderers)), ", "), "no report format yet"))
	}
	t, err := s.Template(r.Template)
	if err != nil {
		v.add("/template", "no report template %q", r.Template)
	}
	f, p := t.Filters, t.Period
	if r.Filters != nil {
		f = *r.Filters
	}
	if r.Period != nil {
		p = *r.Period
	}
	validateFilter(&v, "", f)
	var w Window
	if err == nil { // without a template, there are no sections, and no period unless asked
		validateSections(&v, "", t.Sections, f)
		validateFormat(&v, r.Format, t.Sections)
	}
	if err == nil || r.Period != nil {
		w = resolvePeriod(&v, "", p, s.cfg.Now())
	}
	if err := v.err(); err != nil {
		return Report{}, err
	}
	s.mu.Lock()
	pending := len(s.queue)
	s.mu.Unlock()
	if pending >= s.cfg.MaxPending {
		return Report{}, problem.Unavailable(30*time.Second, "%d reports are waiting to be generated: try again later", pending)
	}
	resolved := p
	resolved.From, resolved.To, resolved.Bucket = w.From.UTC(), w.To.UTC(), contracts.ReportBucket(w.Unit)
	id := events.NewStreamID("reporting", "report")
	if r.ScheduleID != "" && !r.ScheduledFor.IsZero() {
		id = scheduledReportID(r.ScheduleID, r.ScheduledFor)
	}
	all := r.By.AllTeams()
	d := contracts.ReportRequested{ReportID: id, Template: t.ID, TemplateName: t.Name, Format: contracts.ReportFormat(r.Format),
		Sections: t.Sections, Filters: filterOrNil(f), Period: resolved, Branding: nonZero(t.Branding),
		RequestedBy: r.By.Actor(), AllTeams: &all, ScheduleID: r.ScheduleID, ScheduledFor: r.ScheduledFor.UTC()}
	if !all {
		d.Teams = ownership.Normalize(r.By.Teams)
	}
	if err := s.appendOne(ctx, id, events.NoStream, contracts.TypeReportRequested, r.By.Actor(), d); err != nil {
		return Report{}, err
	}
	s.mu.Lock()
	s.queue = append(s.queue, id)
	rep := s.reports[id].view()
	s.mu.Unlock()
	s.signal()
	return rep, nil
}

// view is a copy of r safe to hand out (s.mu held).
func (r *Report) view() Report {
	c := *r
	c.Sections = slices.Clone(r.Sections)
	c.Deliveries = slices.Clone(r.Deliveries)
	return c
}

// visible reports whether by may see r: its own reports, or every one with teams:all (a report
// holds the figures of the teams its requester could see, so it is not another team's to read).
func (r *Report) visible(by access.Principal) bool {
	return by.AllTeams() || r.RequestedBy == by.Actor()
}

// errNoReport is the answer for a report that does not exist or that by may not see.
func errNoReport(id string) error { return problem.NotFound("no report %q", id) }

// Report returns one report by may see.
func (s *Service) Report(id string, by access.Principal) (Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reports[id]
	if !ok || !r.visible(by) {
		return Report{}, errNoReport(id)
	}
	return r.view(), nil
}

// ReportQuery selects reports.
type ReportQuery struct {
	Status   string // "" for any
	Template string // "" for any
	Limit    int    // newest first; 1..MaxListLimit
}

// MaxListLimit bounds one list of reports.
const MaxListLimit = 500

// Reports returns the newest reports by may see that q selects.
func (s *Service) Reports(q ReportQuery, by access.Principal) []Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Report{}
	for i := len(s.order) - 1; i >= 0 && len(out) < q.Limit; i-- {
		r := s.reports[s.order[i]]
		if r.visible(by) && (q.Status == "" || r.Status == q.Status) && (q.Template == "" || r.Template == q.Template) {
			out = append(out, r.view())
		}
	}
	return out
}

// Open opens a generated report's file.
func (s *Service) Open(id string, by access.Principal) (*os.File, Report, error) {
	r, err := s.Report(id, by)
	if err != nil {
		return nil, r, err
	}
	switch r.Status {
	case StatusGenerated:
	case StatusFailed:
		return nil, r, problem.Conflict("report %s failed: %s", id, r.Reason)
	default:
		return nil, r, problem.Conflict("report %s is %s (%d%%): its file is not ready", id, r.Status, r.Progress)
	}
	f, err := os.Open(s.path(id, r.Format))
	if errors.Is(err, os.ErrNotExist) {
		// Generated on another node, or its data directory was lost.
		return nil, r, problem.NotFound("the file of report %s is not on this node", id)
	}
	return f, r, err
}

func (s *Service) path(id, format string) string { return filepath.Join(s.dir(), id+"."+format) }

// tmpPrefix starts the name of a file being written; Start removes those a stopped node left.
const tmpPrefix = ".tmp-"

func (s *Service) signal() { poke(s.wake) }

// poke wakes whoever waits on ch (a channel of capacity one) without blocking: a wake-up already
// pending covers this one.
func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// next takes the next queued report, waiting for one until ctx ends.
func (s *Service) next(ctx context.Context) (string, bool) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			id := s.queue[0]
			s.queue = s.queue[1:]
			more := len(s.queue) > 0
			s.mu.Unlock()
			if more {
				s.signal() // another worker may take the next one
			}
			return id, true
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", false
		case <-s.wake:
		}
	}
}

func (s *Service) work(ctx context.Context) {
	for {
		id, ok := s.next(ctx)
		if !ok {
			return
		}
		s.generate(ctx, id)
	}
}

// spec is the Spec the report was requested with (s.mu held).
func (r *Report) spec(now time.Time) (Spec, error) {
	loc := time.UTC
	if r.Period.TimeZone != "" {
		l, err := time.LoadLocation(r.Period.TimeZone)
		if err != nil {
			return Spec{}, fmt.Errorf("time zone %q: %w", r.Period.TimeZone, err)
		}
		loc = l
	}
	sp := Spec{Title: cmp.Or(r.TemplateName, r.Template), Sections: slices.Clone(r.Sections), Filter: r.Filters, Branding: r.branding,
		Window:      Window{From: r.Period.From, To: r.Period.To, Unit: analytics.Unit(r.Period.Bucket), Location: loc},
		RequestedBy: r.RequestedBy, Now: now}
	if !r.allTeams {
		sp.Scope = ownership.Normalize(append([]string{}, r.teams...)) // empty, not nil: no team sees nothing
	}
	return sp, nil
}

// generate builds, renders and records one report. A failure is recorded (ReportFailed with
// its reason); a stop (ctx ended) is not: the report stays pending for the next start.
func (s *Service) generate(ctx context.Context, id string) {
	start := s.cfg.Now()
	s.mu.Lock()
	r := s.reports[id]
	if r == nil || r.Status != StatusPending {
		s.mu.Unlock()
		return
	}
	r.Status, r.Progress = StatusRunning, 0
	version, format := r.version, r.Format
	spec, err := r.spec(start)
	s.mu.Unlock()
	var out written
	var stats Stats
	if err == nil {
		var doc *render.Document
		doc, stats, err = s.builder.Build(ctx, spec, func(done, total int) { s.setProgress(id, 90*done/total) })
		if err != nil {
			err = fmt.Errorf("building the document: %w", err)
		} else {
			out, err = s.write(id, format, doc)
		}
	}
	if ctx.Err() != nil {
		s.mu.Lock()
		r.Status, r.Progress = StatusPending, 0
		s.mu.Unlock()
		return
	}
	ms := int(s.cfg.Now().Sub(start).Milliseconds())
	var typ string
	var data any
	if err != nil {
		typ, data = contracts.TypeReportFailed, contracts.ReportFailed{ReportID: id, Reason: reason(err), DurationMs: &ms}
		s.cfg.Log.Warn("reporting: a report failed", "report_id", id, "err", err)
	} else {
		rows := stats.Rows
		g := contracts.ReportGenerated{ReportID: id, SizeBytes: int(out.size), SHA256: out.sha256, Rows: &rows, DurationMs: ms}
		if out.pages > 0 {
			g.Pages = &out.pages
		}
		if stats.Truncated {
			g.Truncated = &stats.Truncated
		}
		typ, data = contracts.TypeReportGenerated, g
	}
	// Expected version: a report is finished once; a second node that generated it too loses here.
	if err := s.appendOne(ctx, id, events.Exact(version), typ, reportWorker.Actor(), data); err != nil {
		s.cfg.Log.Error("reporting: recording a report's outcome", "report_id", id, "err", err)
		s.mu.Lock()
		if r.Status == StatusRunning {
			r.Status, r.Progress = StatusPending, 0 // the next start tries again
		}
		s.mu.Unlock()
		return
	}
	s.deliver(ctx, id) // a scheduled report goes to its recipients; others return at once
}

// reportWorker is the actor of the events the workers append.
var reportWorker = access.System("reporting")

// maxReason bounds ReportFailed's reason (its schema's maxLength).
const maxReason = 4096

// reason is what a failure tells the requester: the error's message, which names the section and
// the read model that failed (never a stack or a query).
func reason(err error) string {
	msg := err.Error()
	if len(msg) > maxReason {
		msg = strings.ToValidUTF8(msg[:maxReason-3], "") + "..."
	}
	return msg
}

func (s *Service) setProgress(id string, pct int) {
	s.mu.Lock()
	if r := s.reports[id]; r != nil && r.Status == StatusRunning {
		r.Progress = pct
	}
	s.mu.Unlock()
}

// pageCounter is a renderer that says how many pages it wrote (a PDF renderer may); the count
// goes into ReportGenerated.
type pageCounter interface {
	RenderPages(w io.Writer, d *render.Document) (pages int, err error)
}

// written describes a file write wrote.
type written struct {
	size   int64
	sha256 string
	pages  int
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// write renders doc into Dir/reports/<id>.<format> atomically: into a temporary file of the same
// directory, synced, then renamed, so a reader (or a restart) never sees half a document.
func (s *Service) write(id, format string, doc *render.Document) (written, error) {
	rd := s.renderers[format]
	if rd == nil {
		return written{}, fmt.Errorf("this node has no %s renderer", format)
	}
	f, err := os.CreateTemp(s.dir(), tmpPrefix+id+"-*")
	if err != nil {
		return written{}, err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	h, n := sha256.New(), &counter{}
	w := io.MultiWriter(f, h, n)
	var out written
	if pc, ok := rd.(pageCounter); ok {
		out.pages, err = pc.RenderPages(w, doc)
	} else {
		err = rd.Render(w, doc)
	}
	if err != nil {
		f.Close()
		return written{}, fmt.Errorf("rendering %s: %w", format, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return written{}, err
	}
	if err := f.Close(); err != nil {
		return written{}, err
	}
	if err := os.Rename(tmp, s.path(id, format)); err != nil {
		return written{}, err
	}
	if d, err := os.Open(s.dir()); err == nil {
		_ = d.Sync() // the rename survives a crash
		d.Close()
	}
	out.size, out.sha256 = n.n, hex.EncodeToString(h.Sum(nil))
	return out, nil
}
