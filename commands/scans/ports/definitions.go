package ports

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/httpcmd"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/domain"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// Config of the scan orchestration endpoints.
type Config struct {
	Schemas fs.FS // the command schemas (schemas.CommandsFS())
	// MaxBodyBytes bounds a pushed report (default 256 MiB); definition bodies are bounded by
	// httpcmd.DefaultMaxBodyBytes.
	MaxBodyBytes int64
	Log          *slog.Logger
}

// SchemaNames lists the command schemas the endpoints need.
var SchemaNames = []string{"scans/CreateScanDefinition", "scans/UpdateScanDefinition", "scans/DeleteScanDefinition",
	"scans/RequestScanRun", "scans/CancelScanRun"}

// specOf turns the body of POST /v1/scan-definitions (PUT's has the same fields: convert it) into
// the domain's spec; an absent number is 0, which the domain reads as its default.
func specOf(b contracts.CreateScanDefinition) domain.Spec {
	s := domain.Spec{Name: b.Name, Scanner: string(b.Scanner), Schedule: b.Schedule, TimeoutSeconds: intOf(b.TimeoutSeconds),
		MaxAttempts: intOf(b.MaxAttempts), RetryBackoffSeconds: intOf(b.RetryBackoffSeconds), Format: b.Format}
	if t := b.Target; t != nil {
		s.Target = domain.Target{AssetID: t.AssetID, Addresses: t.Addresses}
	}
	if o := b.Options; o != nil {
		s.Options = &domain.NmapOptions{Ports: o.Ports, Scripts: o.Scripts, ServiceDetection: o.ServiceDetection != nil && *o.ServiceDetection,
			Timing: o.Timing, HostTimeoutSeconds: intOf(o.HostTimeoutSeconds)}
	}
	return s
}

func intOf(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

type definitions struct {
	orch *app.Orchestrator
	cmds *httpcmd.Server // definition and run command bodies: httpcmd.DefaultMaxBodyBytes
	max  int64
	log  *slog.Logger
}

// Register adds the scan definition and run routes to mux.
//
// The GET routes are served from the orchestrator's in-memory index rather than a projection:
// definitions and runs are small data the orchestrator keeps anyway (it follows the store to
// recover interrupted runs), and the run's import is in the scans read model (/v1/scans/{id},
// id = run id).
func Register(mux Mux, orch *app.Orchestrator, cfg Config) error {
	if orch == nil {
		return errors.New("scans ports: orchestrator is required")
	}
	// Command bodies keep httpcmd's default bound; MaxBodyBytes bounds a pushed report, which
	// is far larger than any command.
	cmds, err := httpcmd.Open(cfg.Schemas, 0, cfg.Log, SchemaNames...)
	if err != nil {
		return err
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 256 << 20
	}
	d := &definitions{orch: orch, cmds: cmds, max: cfg.MaxBodyBytes, log: cfg.Log}
	mux.Handle("POST /v1/scan-definitions", command(d, "scans/CreateScanDefinition", d.create))
	mux.Handle("GET /v1/scan-definitions", http.HandlerFunc(d.list))
	mux.Handle("GET /v1/scan-definitions/{id}", http.HandlerFunc(d.get))
	mux.Handle("PUT /v1/scan-definitions/{id}", command(d, "scans/UpdateScanDefinition", d.update))
	mux.Handle("DELETE /v1/scan-definitions/{id}", command(d, "scans/DeleteScanDefinition", d.delete))
	mux.Handle("POST /v1/scan-definitions/{id}/runs", command(d, "scans/RequestScanRun", d.run))
	mux.Handle("POST /v1/scan-definitions/{id}/reports", http.HandlerFunc(d.push))
	mux.Handle("GET /v1/scan-runs/{id}", http.HandlerFunc(d.getRun))
	mux.Handle("POST /v1/scan-runs/{id}/cancel", command(d, "scans/CancelScanRun", d.cancel))
	return nil
}

// command is the handler of a command route: it reads a bounded body, validates it against its
// schema and hands it to handle, or answers the error itself.
func command[T any](d *definitions, schema string, handle func(w http.ResponseWriter, r *http.Request, body T, call es.Invocation)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body T
		call, err := d.cmds.Command(w, r, schema, &body)
		if err != nil {
			problem.Error(w, r, d.log, err)
			return
		}
		handle(w, r, body, call)
	}
}

func (d *definitions) create(w http.ResponseWriter, r *http.Request, body contracts.CreateScanDefinition, call es.Invocation) {
	res, err := d.orch.CreateDefinition(r.Context(), specOf(body), call.Meta)
	if err != nil {
		problem.Error(w, r, d.log, err)
		return
	}
	w.Header().Set("Location", "/v1/scan-definitions/"+res.ID)
	status := http.StatusCreated
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		status = http.StatusOK
	}
	writeJSON(w, status, res)
}

func (d *definitions) update(w http.ResponseWriter, r *http.Request, body contracts.UpdateScanDefinition, call es.Invocation) {
	res, err := d.orch.UpdateDefinition(r.Context(), r.PathValue("id"), specOf(contracts.CreateScanDefinition(body)), call.Expected, call.Meta)
	d.answer(w, r, http.StatusOK, res, err)
}

func (d *definitions) delete(w http.ResponseWriter, r *http.Request, body contracts.DeleteScanDefinition, call es.Invocation) {
	res, err := d.orch.DeleteDefinition(r.Context(), r.PathValue("id"), body.Reason, call.Expected, call.Meta)
	d.answer(w, r, http.StatusOK, res, err)
}

// run's body (RequestScanRun) has nothing the run needs: it is decoded for its schema check.
func (d *definitions) run(w http.ResponseWriter, r *http.Request, _ contracts.RequestScanRun, call es.Invocation) {
	res, err := d.orch.RequestRun(r.Context(), r.PathValue("id"), call.Meta)
	if err != nil {
		problem.Error(w, r, d.log, err)
		return
	}
	w.Header().Set("Location", "/v1/scan-runs/"+res.ID)
	writeJSON(w, http.StatusAccepted, map[string]any{"run_id": res.ID, "position": res.Position})
}

func (d *definitions) cancel(w http.ResponseWriter, r *http.Request, body contracts.CancelScanRun, call es.Invocation) {
	res, err := d.orch.CancelRun(r.Context(), r.PathValue("id"), body.Reason, call.Meta)
	d.answer(w, r, http.StatusOK, res, err)
}

func (d *definitions) answer(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		problem.Error(w, r, d.log, err)
		return
	}
	writeJSON(w, status, v)
}

func (d *definitions) list(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"items": d.orch.Definitions()})
}

func (d *definitions) get(w http.ResponseWriter, r *http.Request) {
	writeFound(d, w, r, "scan definition", d.orch.Definition)
}

func (d *definitions) getRun(w http.ResponseWriter, r *http.Request) {
	writeFound(d, w, r, "scan run", d.orch.Run)
}

// writeFound answers what lookup finds under the path's id, or a NotFoundError for the what.
func writeFound[T any](d *definitions, w http.ResponseWriter, r *http.Request, what string, lookup func(id string) (T, bool)) {
	id := r.PathValue("id")
	v, ok := lookup(id)
	if !ok {
		problem.Error(w, r, d.log, &domain.NotFoundError{What: what, ID: id})
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// push imports a report an external scanner sends with its definition's token. The token is
// compared as a SHA-256 in constant time; it is never logged.
func (d *definitions) push(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	format := r.URL.Query().Get("format")
	if format != "" && !formatRe.MatchString(format) {
		problem.Error(w, r, d.log, problem.Invalid("format", "format must be a parser name"))
		return
	}
	call, err := httpcmd.ParseCall(r)
	if err != nil {
		problem.Error(w, r, d.log, err)
		return
	}
	// The scheme is case-insensitive (RFC 9110 §11.1).
	var token string
	if scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(cred)
	}
	// A platform API token restricted to a definition pushes to that one only (it also matches
	// no other definition's hash, but says so more plainly).
	if p, ok := access.From(r.Context()); ok && p.Definition != "" && p.Definition != domain.DefinitionStreamID(id) {
		problem.Error(w, r, d.log, problem.Forbidden("this token pushes the reports of scan definition %s only", p.Definition))
		return
	}
	spec, err := d.orch.AuthorizePush(r.Context(), id, token)
	var te *app.TokenError
	if errors.As(err, &te) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scan-reports"`)
		problem.Error(w, r, d.log, problem.Unauthorized("%s", te.Error()).OnField("Authorization"))
		return
	}
	if err != nil {
		problem.Error(w, r, d.log, err)
		return
	}
	if r.ContentLength > d.max {
		problem.Error(w, r, d.log, &httpcmd.TooLargeError{Limit: d.max})
		return
	}
	// A push signed in as a platform API token acts as that token; the definition's own push
	// token (no principal) acts as the definition.
	call.Meta.Actor = es.ActorOf(r.Context(), "scanner:definition-"+id)
	res, err := d.orch.PushReport(r.Context(), id, spec, format, http.MaxBytesReader(w, r.Body, d.max), call.Meta)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		problem.Error(w, r, d.log, &httpcmd.TooLargeError{Limit: d.max})
		return
	case err != nil && res.RunID != "":
		problem.Error(w, r, d.log, &runFailedError{runID: res.RunID, err: err})
		return
	case err != nil:
		problem.Error(w, r, d.log, err)
		return
	}
	w.Header().Set("Location", "/v1/scan-runs/"+res.RunID)
	writeJSON(w, http.StatusOK, res)
}

// runFailedError: a pushed report's run exists and failed. The problem names the run, so the
// CI job that pushed can show it; the cause's kind stands when it is the client's (a bad
// report, a conflict), and a failure on the server's side is still this run's failure to the
// client: 422 import-failed, with the cause in the detail.
type runFailedError struct {
	runID string
	err   error
}

func (e *runFailedError) Error() string { return fmt.Sprintf("run %s failed: %v", e.runID, e.err) }
func (e *runFailedError) Unwrap() error { return e.err }

// Kind is the zero Kind (defer to the cause) unless the cause is a server error.
func (e *runFailedError) Kind() problem.Kind {
	if e.causeIsClients() {
		return 0
	}
	return problem.KindRejected
}

func (e *runFailedError) ProblemType() (string, string) {
	if e.causeIsClients() {
		return "", ""
	}
	return "import-failed", "Import failed"
}

func (e *runFailedError) causeIsClients() bool { return problem.From(e.err).Status < 500 }
