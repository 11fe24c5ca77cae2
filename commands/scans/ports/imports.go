// Package ports holds the scans context's HTTP endpoints. Imports run off the request path, and
// an accepted import is durable: the endpoint reserves a queue slot before reading the body
// (503 when the queue is full, nothing spooled), streams the report (decompressed when it came
// gzip'd: upload.go) into the node's spool directory while hashing it, fsyncs it, records
// ScanImportRequested (spool name, SHA-256, size, node) and only then answers 202 with the scan
// id. A bounded pool of workers imports the spooled reports while GET reports progress; a
// restarted node resumes every import it had accepted, or fails it with the reason, and sweeps
// its spool directory.
package ports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/socplatform/soc/commands/internal/httpcmd"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/problem"
)

// ImportFunc handles one ImportScanReport (the importer's Import, with whatever the binary adds
// after it); the endpoint fills in the spooled report, format, scan id, actor and a Progress
// that GET reports.
type ImportFunc func(ctx context.Context, cmd app.ImportScanReport) (app.Summary, error)

// Ledger records accepted uploads and answers their durable state; the scans importer
// (*app.Importer) is the one implementation.
type Ledger interface {
	// CheckFormat refuses a format that is neither auto nor a parser's name.
	CheckFormat(format string) error
	// EmptyIsReport reports whether an empty report of format is a report with no findings.
	EmptyIsReport(format string) bool
	// RequestImport records ScanImportRequested; the upload is accepted once it returns.
	RequestImport(ctx context.Context, req app.RequestImport) (events.AppendResult, error)
	// PendingImports lists what node accepted and has not ended.
	PendingImports(node string) []app.PendingImport
	// FailImport ends an import that cannot run, with the reason.
	FailImport(ctx context.Context, scanID, actor, reason string) error
	// ImportStatus folds an import's stream (Version 0: none).
	ImportStatus(ctx context.Context, scanID string) (app.ImportRecord, error)
}

// ImportsConfig bounds the endpoint.
type ImportsConfig struct {
	MaxBodyBytes int64  // default 256 MiB; larger reports get 413
	Workers      int    // imports running at once (default 2)
	QueueLength  int    // imports accepted and waiting (default 32); beyond, 503 with Retry-After
	SpoolDir     string // required: where accepted reports wait, kept across restarts
	KeepJobs     int    // finished jobs remembered for GET with their progress (default 1000)
	// UploadsPerClient bounds the uploads one client streams at once (default 4); beyond, 429.
	UploadsPerClient int
	// ClientID names the client of a request for UploadsPerClient (default: the remote IP).
	// Identity replaces it with the authenticated principal.
	ClientID func(*http.Request) string
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
	if c.UploadsPerClient <= 0 {
		c.UploadsPerClient = 4
	}
	if c.ClientID == nil {
		c.ClientID = remoteIP
	}
	return c
}

// remoteIP is the default client id: the address the request came from.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Job is what GET /v1/scans/{id}/import reports.
type Job struct {
	ScanID     string       `json:"scan_id"`
	Format     string       `json:"format"`
	State      string       `json:"state"` // queued, running, completed, failed
	Done       int          `json:"findings_done"`
	Total      int          `json:"findings_total"`
	Summary    *app.Summary `json:"summary,omitempty"`
	Stage      string       `json:"stage,omitempty"` // of a failure: detect, parse, import
	Error      string       `json:"error,omitempty"`
	AcceptedAt time.Time    `json:"accepted_at"`
	FinishedAt *time.Time   `json:"finished_at,omitempty"`
	spool      string       // the spool file's name
	actor      string
	// asset and closeMissing are the request's ?asset= and ?close_missing= (ImportScanReport).
	asset        string
	closeMissing bool
}

// nodeIDFile holds the spool directory's id: ScanImportRequested names it, so the node that owns
// the spooled reports (whatever its address or process) is the one that resumes them.
const nodeIDFile = "node-id"

// Imports serves the import endpoints.
type Imports struct {
	cfg    ImportsConfig
	run    ImportFunc
	ledger Ledger
	log    *slog.Logger
	node   string

	mu       sync.Mutex
	queue    []*Job
	waiting  int  // queued jobs plus uploads holding a reserved slot
	closing  bool // Close was called: uploads get 503
	clients  map[string]int
	jobs     map[string]*Job
	order    []string // finished job ids, oldest first, for eviction
	wake     chan struct{}
	stop     chan struct{} // closed by Close: workers take no more jobs
	wg       sync.WaitGroup
	runCtx   context.Context // the imports' context, cancelled when Close's grace ends
	cancel   context.CancelFunc
	stopOnce sync.Once
}

// NewImports opens the spool directory, resumes every import this node accepted and has not
// ended (or records ScanImportFailed with the reason when its spooled report is missing or
// corrupt), removes every other file of the directory, and starts the workers. The ledger must
// be loaded (app.Importer.Start) so that it knows the pending imports. Close stops them.
func NewImports(ctx context.Context, cfg ImportsConfig, run ImportFunc, ledger Ledger, log *slog.Logger) (*Imports, error) {
	cfg = cfg.withDefaults()
	if cfg.SpoolDir == "" {
		return nil, errors.New("scans/ports: the imports need a spool directory")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("the import spool directory: %w", err)
	}
	node, err := spoolNodeID(cfg.SpoolDir)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	im := &Imports{cfg: cfg, run: run, ledger: ledger, log: log, node: node, clients: map[string]int{}, jobs: map[string]*Job{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), runCtx: runCtx, cancel: cancel}
	if err := im.resume(ctx); err != nil {
		cancel()
		return nil, err
	}
	for i := 0; i < cfg.Workers; i++ {
		im.wg.Add(1)
		go im.worker()
	}
	return im, nil
}

// spoolNodeID reads the spool directory's id, creating it (durably) on first use.
func spoolNodeID(dir string) (string, error) {
	path := filepath.Join(dir, nodeIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if u, perr := uuid.Parse(id); perr == nil && u.String() == id {
			return id, nil
		}
		return "", fmt.Errorf("%s: not a spool directory id (a UUID); remove it to start the directory afresh", path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	id := uuid.Must(uuid.NewV7()).String()
	if err := writeDurably(dir, nodeIDFile, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("writing the spool directory id: %w", err)
	}
	return id, nil
}

// writeDurably writes name in dir through a temporary file, fsyncs it, renames it into place and
// fsyncs the directory.
func writeDurably(dir, name string, b []byte) error {
	f, err := os.CreateTemp(dir, name+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return syncDir(dir)
}

// syncDir makes the directory's entries (a file just created or renamed) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// resume queues the imports this node accepted and has not ended, fails those whose report is
// gone or altered, and sweeps the spool directory of every other file.
func (im *Imports) resume(ctx context.Context) error {
	keep := map[string]bool{nodeIDFile: true}
	for _, p := range im.ledger.PendingImports(im.node) {
		path := filepath.Join(im.cfg.SpoolDir, p.Spool)
		sum, n, err := hashFile(path)
		var reason string
		switch {
		case errors.Is(err, os.ErrNotExist):
			reason = fmt.Sprintf("the spooled report %s is gone from this node's spool directory; upload the report again", p.Spool)
		case err != nil:
			reason = fmt.Sprintf("the spooled report %s cannot be read: %v; upload the report again", p.Spool, err)
		case sum != p.SHA256 || n != p.Bytes:
			reason = fmt.Sprintf("the spooled report %s is corrupt: %d bytes with SHA-256 %s, accepted as %d bytes with SHA-256 %s; upload the report again", p.Spool, n, sum, p.Bytes, p.SHA256)
		}
		if reason != "" {
			if err := im.ledger.FailImport(ctx, p.ScanID, "system:soc", reason); err != nil {
				return fmt.Errorf("recording that import %s cannot resume: %w", p.ScanID, err)
			}
			im.log.Warn("an accepted import cannot resume", "scan_id", p.ScanID, "reason", reason)
			continue
		}
		keep[p.Spool] = true
		job := &Job{ScanID: p.ScanID, Format: p.Format, State: "queued", AcceptedAt: p.RequestedAt.UTC(), spool: p.Spool, actor: p.Actor,
			asset: p.Asset, closeMissing: p.CloseMissing}
		im.jobs[job.ScanID] = job
		im.queue = append(im.queue, job)
		im.waiting++
		im.log.Info("resuming an accepted import", "scan_id", p.ScanID, "spool", p.Spool)
	}
	entries, err := os.ReadDir(im.cfg.SpoolDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if keep[e.Name()] || e.IsDir() {
			continue
		}
		if err := os.Remove(filepath.Join(im.cfg.SpoolDir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("sweeping the import spool: %w", err)
		}
		im.log.Info("removed a spool file no pending import needs", "file", e.Name())
	}
	if len(im.queue) > 0 {
		im.signal()
	}
	return nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Close stops accepting uploads (503) and taking queued jobs, which stay requested in the store
// and resume on the next start. Running imports may finish until ctx ends; then they are
// cancelled and left, recorded as running, to resume too.
func (im *Imports) Close(ctx context.Context) {
	im.stopOnce.Do(func() {
		im.mu.Lock()
		im.closing = true
		im.mu.Unlock()
		close(im.stop)
	})
	done := make(chan struct{})
	go func() { im.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		im.cancel()
		<-done
	}
	im.cancel()
}

// Mux is where routes go: an *http.ServeMux, or a wrapper that also records the patterns.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Register adds the routes to mux.
func (im *Imports) Register(mux Mux) {
	mux.Handle("POST /v1/scans/imports", http.HandlerFunc(im.post))
	mux.Handle("GET /v1/scans/{id}/import", http.HandlerFunc(im.get))
	mux.Handle("GET /v1/scans/formats", http.HandlerFunc(formats))
}

// formats answers GET /v1/scans/formats: every format an upload may name, as the binary's
// parsers document themselves (app.Formats), so clients choose ?format= from the server they
// talk to.
func formats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"formats": app.Formats()})
}

// formatRe is what a format name may be: the names of the import events' format (ScanImportRequested),
// hyphens included (dependency-check, npm-audit).
var formatRe = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)

// retryUpload is the Retry-After of a refused upload (queue full, too many at once, shutting down).
const retryUpload = 30 * time.Second

func (im *Imports) post(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "auto"
	}
	if !formatRe.MatchString(format) {
		problem.Error(w, r, im.log, problem.Invalid("format", "format must be auto or a parser name"))
		return
	}
	if err := im.ledger.CheckFormat(format); err != nil {
		problem.Error(w, r, im.log, problem.Invalid("format", "%v", err))
		return
	}
	gzipped, err := uploadGzipped(r.Header)
	if err != nil {
		w.Header().Set("Accept-Encoding", acceptEncoding)
		problem.Error(w, r, im.log, err)
		return
	}
	asset, closeMissing, ok := im.importOptions(w, r)
	if !ok {
		return
	}
	client := im.cfg.ClientID(r)
	if !im.enterClient(client) {
		problem.Error(w, r, im.log, problem.RateLimited(retryUpload, "at most %d uploads at once per client; retry when one has finished", im.cfg.UploadsPerClient))
		return
	}
	defer im.leaveClient(client)
	// The slot is reserved before a byte is read: a full queue costs the client nothing to
	// learn, and the node no disk.
	if err := im.reserve(); err != nil {
		problem.Error(w, r, im.log, err)
		return
	}
	accepted := false
	defer func() {
		if !accepted {
			im.release()
		}
	}()
	body := http.MaxBytesReader(w, r.Body, im.cfg.MaxBodyBytes)
	src, err := openReport(r, body, gzipped, im.cfg.MaxBodyBytes)
	if err != nil {
		im.bodyError(w, r, err)
		return
	}
	scanID := uuid.Must(uuid.NewV7()).String()
	spool := scanID + ".report"
	sum, n, err := im.spool(spool, src)
	if err != nil {
		im.bodyError(w, r, err)
		return
	}
	if n == 0 {
		// An empty body is a scan that found nothing only in a format whose scanner writes one
		// (nuclei): refused here, before it is queued, when the format is not named or never empty.
		im.removeSpool(spool)
		if !im.ledger.EmptyIsReport(format) {
			problem.Error(w, r, im.log, problem.Invalid("body", "%s", emptyBodyReason(format)))
			return
		}
		// ScanImportRequested, a published schema, records at least one byte: the report is
		// spooled as one line end, which those formats read as the same empty report.
		if sum, n, err = im.spool(spool, strings.NewReader("\n")); err != nil {
			im.bodyError(w, r, err)
			return
		}
	}
	actor := httpcmd.ActorOf(r)
	res, err := im.ledger.RequestImport(r.Context(), app.RequestImport{ScanID: scanID, Format: format, Spool: spool, SHA256: sum, Bytes: n, Node: im.node, Actor: actor,
		Asset: asset, CloseMissing: closeMissing})
	if err != nil {
		im.removeSpool(spool)
		problem.Error(w, r, im.log, err)
		return
	}
	// Durable now: the report is on disk and ScanImportRequested is in the store.
	accepted = true
	job := &Job{ScanID: scanID, Format: format, State: "queued", AcceptedAt: time.Now().UTC(), spool: spool, actor: actor,
		asset: asset, closeMissing: closeMissing}
	im.mu.Lock()
	im.jobs[scanID] = job
	im.queue = append(im.queue, job)
	im.mu.Unlock()
	im.signal()
	w.Header().Set("Location", "/v1/scans/"+scanID+"/import")
	writeJSON(w, http.StatusAccepted, map[string]any{"scan_id": scanID, "status": "/v1/scans/" + scanID + "/import", "bytes": n,
		"sha256": sum, "position": res.LastPosition})
}

// emptyBodyReason says why an empty upload of format is refused.
func emptyBodyReason(format string) string {
	if format == "auto" {
		return "the report is empty, which tells no format: name the format (?format=) of a scanner that writes an empty report when it finds nothing"
	}
	return "the report is empty, and an empty " + format + " report is no report: its scanner writes one even when it finds nothing"
}

// spool streams src into the spool file name while hashing it, and makes file and directory
// entry durable. The file is removed on error.
func (im *Imports) spool(name string, src io.Reader) (string, int64, error) {
	f, err := os.OpenFile(filepath.Join(im.cfg.SpoolDir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", 0, &spoolError{err}
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if err == nil {
		if serr := f.Sync(); serr != nil {
			err = &spoolError{serr}
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = &spoolError{cerr}
	}
	if err == nil {
		if serr := syncDir(im.cfg.SpoolDir); serr != nil {
			err = &spoolError{serr}
		}
	}
	if err != nil {
		im.removeSpool(name)
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// spoolError is the node failing to keep an upload (a full disk), not the client's doing.
type spoolError struct{ err error }

func (e *spoolError) Error() string { return "spooling the report: " + e.err.Error() }
func (e *spoolError) Unwrap() error { return e.err }

func (im *Imports) removeSpool(name string) {
	if err := os.Remove(filepath.Join(im.cfg.SpoolDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		im.log.Warn("removing a spool file", "file", name, "err", err)
	}
}

func (im *Imports) enterClient(client string) bool {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.clients[client] >= im.cfg.UploadsPerClient {
		return false
	}
	im.clients[client]++
	return true
}

func (im *Imports) leaveClient(client string) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.clients[client]--; im.clients[client] <= 0 {
		delete(im.clients, client)
	}
}

// reserve takes a queue slot for an upload about to be read.
func (im *Imports) reserve() error {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.closing {
		return problem.Unavailable(retryUpload, "the node is shutting down; retry on another node or later").Typed("unavailable", "Shutting down")
	}
	if im.waiting >= im.cfg.QueueLength {
		return problem.Unavailable(retryUpload, "the import queue is full; retry later").Typed("unavailable", "Too many imports")
	}
	im.waiting++
	return nil
}

func (im *Imports) release() {
	im.mu.Lock()
	im.waiting--
	im.mu.Unlock()
}

// signal wakes a worker (one pending wake-up is enough: a worker drains the queue).
func (im *Imports) signal() {
	select {
	case im.wake <- struct{}{}:
	default:
	}
}

// importOptions reads ?asset= (checked by CheckAsset) and ?close_missing= (a boolean, default
// false); ok false when it answered the request with a problem.
func (im *Imports) importOptions(w http.ResponseWriter, r *http.Request) (asset string, closeMissing, ok bool) {
	q := r.URL.Query()
	asset = q.Get("asset")
	if len(asset) > 256 {
		problem.Error(w, r, im.log, problem.Invalid("asset", "asset must be an asset id or a name of at most 256 bytes"))
		return "", false, false
	}
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
	var inflated *inflatedTooLarge
	var spoolErr *spoolError
	var gzipErr *gzipError
	switch {
	case errors.As(err, &tooBig):
		problem.Error(w, r, im.log, problem.TooLarge("body", "reports are limited to %d bytes", tooBig.Limit))
	case errors.As(err, &inflated):
		problem.Error(w, r, im.log, problem.TooLarge("body", "%v", inflated))
	case errors.As(err, &spoolErr):
		problem.Error(w, r, im.log, err) // a 500: the node could not keep the report
	case errors.As(err, &gzipErr), errors.Is(err, errZIPArchive):
		problem.Error(w, r, im.log, problem.Invalid("body", "%v", err))
	default:
		problem.Error(w, r, im.log, problem.Invalid("body", "reading the report: %v", err))
	}
}

func (im *Imports) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if u, err := uuid.Parse(id); err != nil || u.String() != id {
		problem.Error(w, r, im.log, problem.Invalid("id", "the scan id is not a lower-case UUID"))
		return
	}
	im.mu.Lock()
	job, ok := im.jobs[id]
	var snapshot Job
	if ok {
		snapshot = *job
	}
	im.mu.Unlock()
	if ok {
		writeJSON(w, http.StatusOK, snapshot)
		return
	}
	// Not in this process's memory (another node's, an earlier process's, or evicted): the store
	// says what became of it.
	rec, err := im.ledger.ImportStatus(r.Context(), id)
	if err != nil {
		problem.Error(w, r, im.log, err)
		return
	}
	if rec.Version == 0 {
		problem.Error(w, r, im.log, problem.NotFound("no import with scan id %s", id))
		return
	}
	writeJSON(w, http.StatusOK, jobOf(id, rec))
}

// jobOf describes an import from its durable record.
func jobOf(id string, rec app.ImportRecord) Job {
	j := Job{ScanID: id, Format: rec.Format, Summary: rec.Summary, Stage: rec.Stage, Error: rec.Reason, AcceptedAt: rec.RequestedAt.UTC()}
	switch rec.State {
	case app.ImportRequested:
		j.State = "queued"
	default:
		j.State = rec.State
	}
	if rec.Summary != nil {
		j.Done, j.Total = rec.Summary.FindingsTotal, rec.Summary.FindingsTotal
		if j.Format == "" || j.Format == "auto" {
			j.Format = rec.Summary.Format
		}
	}
	if !rec.FinishedAt.IsZero() {
		t := rec.FinishedAt.UTC()
		j.FinishedAt = &t
	}
	return j
}

func (im *Imports) worker() {
	defer im.wg.Done()
	for {
		job := im.next()
		if job == nil {
			return
		}
		im.runJob(job)
	}
}

// next takes the oldest queued job, waiting for one; nil once Close was called.
func (im *Imports) next() *Job {
	for {
		select {
		case <-im.stop:
			return nil
		default:
		}
		im.mu.Lock()
		if len(im.queue) > 0 {
			job := im.queue[0]
			im.queue = im.queue[1:]
			im.waiting--
			more := len(im.queue) > 0
			im.mu.Unlock()
			if more {
				im.signal()
			}
			return job
		}
		im.mu.Unlock()
		select {
		case <-im.stop:
			return nil
		case <-im.wake:
		}
	}
}

func (im *Imports) runJob(job *Job) {
	ctx := im.runCtx
	im.update(job, func(j *Job) { j.State = "running" })
	f, err := os.Open(filepath.Join(im.cfg.SpoolDir, job.spool))
	var summary app.Summary
	if err == nil {
		summary, err = im.run(ctx, app.ImportScanReport{Report: f, Format: job.Format, ScanID: job.ScanID, Actor: job.actor,
			Asset: job.asset, CloseMissing: job.closeMissing,
			Progress: func(done, total int) {
				im.update(job, func(j *Job) { j.Done, j.Total = done, total })
			}})
		f.Close()
	}
	if err != nil && ctx.Err() != nil {
		// Shutting down: the import stays recorded as requested or running, and its spool file
		// stays, for the next start to resume.
		im.log.Info("import interrupted by shutdown; it resumes on the next start", "scan_id", job.ScanID)
		return
	}
	stage, reason, ended := "", "", true
	if err != nil {
		stage, reason, ended = im.ensureEnded(job, err)
	}
	if ended {
		im.removeSpool(job.spool)
	}
	now := time.Now().UTC()
	im.update(job, func(j *Job) {
		j.FinishedAt = &now
		if err != nil {
			j.State, j.Stage, j.Error = "failed", stage, reason
			return
		}
		j.State, j.Summary = "completed", &summary
		j.Done = j.Total
	})
	if err != nil {
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

// ensureEnded makes sure a failed import is recorded as failed (the importer records the
// failures it knows of; a spool file that vanished, or a store error, it does not) and returns
// the recorded stage and reason. Not ended (the store refused): the spool file stays and the
// next start resumes the import.
func (im *Imports) ensureEnded(job *Job, cause error) (stage, reason string, ended bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rec, err := im.ledger.ImportStatus(ctx, job.ScanID)
	if err == nil && rec.State != app.ImportFailed && rec.State != app.ImportCompleted {
		err = im.ledger.FailImport(ctx, job.ScanID, "system:soc", cause.Error())
		if err == nil {
			rec, err = im.ledger.ImportStatus(ctx, job.ScanID)
		}
	}
	if err != nil {
		im.log.Error("recording a failed import; the next start resumes it", "scan_id", job.ScanID, "err", err)
		return "import", cause.Error(), false
	}
	return rec.Stage, cause.Error(), true
}

func (im *Imports) update(job *Job, fn func(*Job)) {
	im.mu.Lock()
	fn(job)
	im.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
