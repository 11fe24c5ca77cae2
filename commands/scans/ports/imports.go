// Package ports holds the scans context's HTTP endpoints. Imports run off the request path: the
// report is spooled to a temporary file (bounded by a configurable size), the request answers 202
// with the scan id, and a bounded pool of workers imports it while GET reports progress.
package ports

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/schemas/problem"
)

// ImportFunc handles one ImportScanReport (the importer's Import, with whatever the binary adds
// after it); the endpoint fills in the spooled report, format, scan id, actor and a Progress
// that GET reports.
type ImportFunc func(ctx context.Context, cmd app.ImportScanReport) (app.Summary, error)

// ImportsConfig bounds the endpoint.
type ImportsConfig struct {
	MaxBodyBytes int64  // default 256 MiB; larger reports get 413
	Workers      int    // imports running at once (default 2)
	QueueLength  int    // imports waiting (default 32); beyond, 503 with Retry-After
	SpoolDir     string // default os.TempDir()
	KeepJobs     int    // finished jobs remembered for GET (default 1000)
	// CheckAsset, when set, checks ?asset= (an asset id or exact name) before the report is
	// accepted, so an unknown asset is a 400 and nothing is written (the importer's
	// ResolveAsset).
	CheckAsset func(ctx context.Context, ref string) error
}

func (c ImportsConfig) withDefaults() ImportsConfig {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 256 << 20
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.QueueLength <= 0 {
		c.QueueLength = 32
	}
	if c.KeepJobs <= 0 {
		c.KeepJobs = 1000
	}
	return c
}

// Job is what GET /v1/scans/{id}/import reports.
type Job struct {
	ScanID     string       `json:"scan_id"`
	Format     string       `json:"format"`
	State      string       `json:"state"` // queued, running, completed, failed
	Done       int          `json:"findings_done"`
	Total      int          `json:"findings_total"`
	Summary    *app.Summary `json:"summary,omitempty"`
	Error      string       `json:"error,omitempty"`
	AcceptedAt time.Time    `json:"accepted_at"`
	FinishedAt *time.Time   `json:"finished_at,omitempty"`
	path       string
	actor      string
	// asset and closeMissing are the request's ?asset= and ?close_missing= (ImportScanReport).
	asset        string
	closeMissing bool
}

// Imports serves the import endpoints.
type Imports struct {
	cfg    ImportsConfig
	run    ImportFunc
	log    *slog.Logger
	queue  chan *Job
	mu     sync.Mutex
	jobs   map[string]*Job
	order  []string // finished job ids, oldest first, for eviction
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// NewImports starts the workers; Close stops them after the running imports finish.
func NewImports(cfg ImportsConfig, run ImportFunc, log *slog.Logger) *Imports {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	im := &Imports{cfg: cfg, run: run, log: log, queue: make(chan *Job, cfg.QueueLength), jobs: map[string]*Job{}, cancel: cancel}
	for i := 0; i < cfg.Workers; i++ {
		im.wg.Add(1)
		go im.worker(ctx)
	}
	return im
}

// Close stops accepting work and waits for the workers.
func (im *Imports) Close() {
	im.cancel()
	im.wg.Wait()
}

// Mux is where routes go: an *http.ServeMux, or a wrapper that also records the patterns.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Register adds the routes to mux.
func (im *Imports) Register(mux Mux) {
	mux.Handle("POST /v1/scans/imports", http.HandlerFunc(im.post))
	mux.Handle("GET /v1/scans/{id}/import", http.HandlerFunc(im.get))
}

var formatRe = regexp.MustCompile(`^[a-z][a-z0-9]{1,31}$`)

func (im *Imports) post(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "auto"
	}
	if !formatRe.MatchString(format) {
		problem.Error(w, r, im.log, problem.Invalid("format", "format must be auto or a parser name"))
		return
	}
	asset, closeMissing, ok := im.importOptions(w, r)
	if !ok {
		return
	}
	body := http.MaxBytesReader(w, r.Body, im.cfg.MaxBodyBytes)
	src, err := reportPart(r, body)
	if err != nil {
		im.bodyError(w, r, err)
		return
	}
	f, err := os.CreateTemp(im.cfg.SpoolDir, "soc-import-*")
	if err != nil {
		problem.Error(w, r, im.log, err)
		return
	}
	n, err := io.Copy(f, src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		im.bodyError(w, r, err)
		return
	}
	if n == 0 {
		os.Remove(f.Name())
		problem.Error(w, r, im.log, problem.Invalid("body", "the report is empty"))
		return
	}
	job := &Job{ScanID: uuid.Must(uuid.NewV7()).String(), Format: format, State: "queued", AcceptedAt: time.Now().UTC(), path: f.Name(), actor: actorOf(r),
		asset: asset, closeMissing: closeMissing}
	im.mu.Lock()
	im.jobs[job.ScanID] = job
	im.mu.Unlock()
	select {
	case im.queue <- job:
	default:
		os.Remove(f.Name())
		im.mu.Lock()
		delete(im.jobs, job.ScanID)
		im.mu.Unlock()
		problem.Error(w, r, im.log, problem.Unavailable(30*time.Second, "the import queue is full; retry later").Typed("unavailable", "Too many imports"))
		return
	}
	w.Header().Set("Location", "/v1/scans/"+job.ScanID+"/import")
	writeJSON(w, http.StatusAccepted, map[string]any{"scan_id": job.ScanID, "status": "/v1/scans/" + job.ScanID + "/import", "bytes": n})
}

// importOptions reads ?asset= (checked by CheckAsset) and ?close_missing= (a boolean, default
// false); ok false when it answered the request with a problem.
func (im *Imports) importOptions(w http.ResponseWriter, r *http.Request) (asset string, closeMissing, ok bool) {
	q := r.URL.Query()
	asset = q.Get("asset")
	if v := q.Get("close_missing"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			problem.Error(w, r, im.log, problem.Invalid("close_missing", "close_missing must be true or false"))
			return "", false, false
		}
		closeMissing = b
	}
	if asset != "" && im.cfg.CheckAsset != nil {
		if err := im.cfg.CheckAsset(r.Context(), asset); err != nil {
			problem.Error(w, r, im.log, err)
			return "", false, false
		}
	}
	return asset, closeMissing, true
}

// reportPart returns the report: the whole body, or the first file part of a multipart form.
func reportPart(r *http.Request, body io.Reader) (io.Reader, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return body, nil
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errNoFilePart
			}
			return nil, err
		}
		if p.FileName() != "" || p.FormName() == "file" {
			return p, nil
		}
	}
}

var errNoFilePart = errors.New("the multipart form has no file part")

func (im *Imports) bodyError(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		problem.Error(w, r, im.log, problem.TooLarge("body", "reports are limited to %d bytes", tooBig.Limit))
		return
	}
	problem.Error(w, r, im.log, problem.Invalid("body", "reading the report: %v", err))
}

func (im *Imports) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil {
		problem.Error(w, r, im.log, problem.Invalid("id", "the scan id is not a UUID"))
		return
	}
	im.mu.Lock()
	job, ok := im.jobs[id]
	var snapshot Job
	if ok {
		snapshot = *job
	}
	im.mu.Unlock()
	if !ok {
		problem.Error(w, r, im.log, problem.NotFound("no import with scan id %s on this node", id))
		return
	}
	writeJSON(w, http.StatusOK, snapshot)
}

func (im *Imports) worker(ctx context.Context) {
	defer im.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-im.queue:
			im.runJob(ctx, job)
		}
	}
}

func (im *Imports) runJob(ctx context.Context, job *Job) {
	defer os.Remove(job.path)
	im.update(job, func(j *Job) { j.State = "running" })
	f, err := os.Open(job.path)
	var summary app.Summary
	if err == nil {
		summary, err = im.run(ctx, app.ImportScanReport{Report: f, Format: job.Format, ScanID: job.ScanID, Actor: job.actor,
			Asset: job.asset, CloseMissing: job.closeMissing,
			Progress: func(done, total int) {
				im.update(job, func(j *Job) { j.Done, j.Total = done, total })
			}})
		f.Close()
	}
	now := time.Now().UTC()
	im.update(job, func(j *Job) {
		j.FinishedAt = &now
		if err != nil {
			j.State, j.Error = "failed", err.Error()
			return
		}
		j.State, j.Summary = "completed", &summary
		j.Done = j.Total
	})
	if err != nil && im.log != nil {
		im.log.Warn("import failed", "scan_id", job.ScanID, "err", err)
	}
	im.mu.Lock()
	im.order = append(im.order, job.ScanID)
	for len(im.order) > im.cfg.KeepJobs {
		delete(im.jobs, im.order[0])
		im.order = im.order[1:]
	}
	im.mu.Unlock()
}

func (im *Imports) update(job *Job, fn func(*Job)) {
	im.mu.Lock()
	fn(job)
	im.mu.Unlock()
}

// actorOf names who asked. Until identity exists, requests are anonymous.
func actorOf(r *http.Request) string { return "anonymous" }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
