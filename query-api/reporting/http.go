package reporting

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/socplatform/soc/query-api/querykit"
	"github.com/socplatform/soc/query-api/reporting/render"
	"github.com/socplatform/soc/schemas"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// Routes are the mux patterns Register adds, in order. Who may call them is cmd/soc's routing
// table: reports:write to request, reports:read to read reports and templates, reports:manage
// to change templates and schedules.
var Routes = []string{
	"POST /v1/reports",
	"GET /v1/reports",
	"GET /v1/reports/{id}",
	"GET /v1/reports/{id}/file",
	"GET /v1/report-templates",
	"POST /v1/report-templates",
	"GET /v1/report-templates/{id}",
	"PUT /v1/report-templates/{id}",
	"DELETE /v1/report-templates/{id}",
	"GET /v1/report-schedules",
	"POST /v1/report-schedules",
	"GET /v1/report-schedules/{id}",
	"PUT /v1/report-schedules/{id}",
	"DELETE /v1/report-schedules/{id}",
}

// maxBody bounds a request or template body (the schemas bound every field; this bounds the read).
const maxBody = 64 << 10

// Register adds Routes to mux, served by svc. Bodies are validated against the command schemas
// (schemas.CommandsFS(): reporting/RequestReport, reporting/SaveReportTemplate, reporting/SaveReportSchedule).
func Register(mux querykit.Mux, svc *Service, log *slog.Logger) error {
	h := &handlers{svc: svc, log: log, schemas: map[string]*jsonschema.Schema{}}
	for _, name := range []string{"reporting/RequestReport", "reporting/SaveReportTemplate", "reporting/SaveReportSchedule"} {
		c := schemas.NewCompiler(schemas.CommandsFS(), "commands")
		sch, err := c.Compile("soc:///commands/" + name + ".json")
		if err != nil {
			return fmt.Errorf("reporting: command schema %s: %w", name, err)
		}
		h.schemas[name] = sch
	}
	querykit.Handle(mux, Routes, h.request, h.list, h.get, h.file, h.templates, h.createTemplate, h.template, h.updateTemplate, h.deleteTemplate,
		h.schedules, h.createSchedule, h.schedule, h.updateSchedule, h.deleteSchedule)
	return nil
}

type handlers struct {
	svc     *Service
	log     *slog.Logger
	schemas map[string]*jsonschema.Schema
}

// principal is the caller. The router puts one on every route it does not serve publicly, and
// these are not public; a request without one (a test mounting the routes bare) acts as the
// system, which sees everything.
func principal(r *http.Request) access.Principal {
	if p, ok := access.From(r.Context()); ok {
		return p
	}
	return reportWorker
}

func (h *handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	problem.Error(w, r, h.log, err)
}

// decode reads a bounded JSON body, checks it against the command schema and decodes it into v.
func (h *handlers) decode(r *http.Request, schema string, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return problem.Invalid("", "reading the body: %v", err)
	}
	if len(body) > maxBody {
		return problem.TooLarge("", "the body is over %d bytes", maxBody)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return problem.Invalid("Content-Type", "want application/json")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return problem.Invalid("", "the body is not JSON: %v", err)
	}
	if err := h.schemas[schema].Validate(doc); err != nil {
		if ptr, reason, ok := schemas.Violation(err); ok {
			return &problem.ParamError{Params: []problem.InvalidParam{{Name: ptr, Reason: reason}}}
		}
		return problem.Invalid("", "%v", err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return problem.Invalid("", "%v", err)
	}
	return nil
}

// jobAnswer is POST /v1/reports' answer: the job to poll.
type jobAnswer struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Location string `json:"location"`
}

func (h *handlers) request(w http.ResponseWriter, r *http.Request) {
	var body contracts.RequestReport
	if err := h.decode(r, "reporting/RequestReport", &body); err != nil {
		h.fail(w, r, err)
		return
	}
	rep, err := h.svc.Request(r.Context(), Request{Template: body.Template, Format: string(body.Format), Filters: body.Filters,
		Period: body.Period, By: principal(r)})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	loc := "/v1/reports/" + rep.ID
	b, err := json.Marshal(jobAnswer{ID: rep.ID, Status: rep.Status, Location: loc})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(append(b, '\n'))
}

// reportList is GET /v1/reports' answer.
type reportList struct {
	Items []Report `json:"items"`
}

func (h *handlers) list(w http.ResponseWriter, r *http.Request) {
	p := querykit.NewParams(r, Routes[1])
	q := ReportQuery{Status: p.Enum("status", []string{StatusPending, StatusRunning, StatusGenerated, StatusFailed}),
		Template: p.Text("template", 64), Limit: p.Limit(querykit.DefaultListLimit, MaxListLimit)}
	if err := p.Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	querykit.WriteJSON(w, r, reportList{Items: h.svc.Reports(q, principal(r))})
}

func (h *handlers) get(w http.ResponseWriter, r *http.Request) {
	if err := querykit.NewParams(r, Routes[2]).Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	rep, err := h.svc.Report(r.PathValue("id"), principal(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	querykit.WriteJSON(w, r, rep)
}

// file serves a generated document. Its ETag is its sha256 (the one ReportGenerated records),
// so a client that holds it gets 304, and a range request resumes a large download.
func (h *handlers) file(w http.ResponseWriter, r *http.Request) {
	if err := querykit.NewParams(r, Routes[3]).Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	f, rep, err := h.svc.Open(r.PathValue("id"), principal(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer f.Close()
	name := fileName(rep)
	hd := w.Header()
	hd.Set("Content-Type", render.Format(rep.Format).ContentType())
	hd.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	hd.Set("ETag", `"`+rep.SHA256+`"`)
	hd.Set("Cache-Control", "private, no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, rep.FinishedAt, f)
}

// fileName is the name a download is saved under: the template, the day it was generated.
func fileName(rep Report) string {
	base := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			return c
		}
		return '-'
	}, rep.Template)
	if strings.HasPrefix(rep.Template, "reporting-template-") {
		base = "report"
	}
	return base + "-" + rep.FinishedAt.UTC().Format("2006-01-02") + "." + rep.Format
}

// templateList is GET /v1/report-templates' answer.
type templateList struct {
	Items []Template `json:"items"`
	// Sections is the catalogue a template chooses from.
	Sections []string `json:"sections"`
}

func (h *handlers) templates(w http.ResponseWriter, r *http.Request) {
	if err := querykit.NewParams(r, Routes[4]).Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	querykit.WriteJSON(w, r, templateList{Items: h.svc.Templates(), Sections: Catalogue})
}

func (h *handlers) template(w http.ResponseWriter, r *http.Request) {
	getSaved(h, w, r, Routes[6], h.svc.Template)
}

func (h *handlers) saveTemplate(w http.ResponseWriter, r *http.Request, id string, status int) {
	saveBody(h, w, r, id, status, "reporting/SaveReportTemplate", h.svc.SaveTemplate,
		func(t Template) string { return "/v1/report-templates/" + t.ID })
}

// getSaved answers the saved template or schedule the path names, which get reads.
func getSaved[T any](h *handlers, w http.ResponseWriter, r *http.Request, route string, get func(id string) (T, error)) {
	if err := querykit.NewParams(r, route).Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := get(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	querykit.WriteJSON(w, r, v)
}

// saveBody creates (id "") or changes a template or schedule from the request's body, checked
// against schema, and answers it with status and its location.
func saveBody[B, T any](h *handlers, w http.ResponseWriter, r *http.Request, id string, status int, schema string,
	store func(ctx context.Context, id string, body B, by access.Principal) (T, error), location func(T) string) {
	var body B
	if err := h.decode(r, schema, &body); err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := store(r.Context(), id, body, principal(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.created(w, r, location(v), status, v)
}

// removeSaved deletes the template or schedule the path names, answering 204.
func removeSaved(h *handlers, w http.ResponseWriter, r *http.Request, del func(ctx context.Context, id string, by access.Principal) error) {
	if err := del(r.Context(), r.PathValue("id"), principal(r)); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// created answers a saved template or schedule: its JSON, with its Location.
func (h *handlers) created(w http.ResponseWriter, r *http.Request, loc string, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func (h *handlers) createTemplate(w http.ResponseWriter, r *http.Request) {
	h.saveTemplate(w, r, "", http.StatusCreated)
}

func (h *handlers) updateTemplate(w http.ResponseWriter, r *http.Request) {
	h.saveTemplate(w, r, r.PathValue("id"), http.StatusOK)
}

func (h *handlers) deleteTemplate(w http.ResponseWriter, r *http.Request) {
	removeSaved(h, w, r, h.svc.DeleteTemplate)
}

// scheduleList is GET /v1/report-schedules' answer.
type scheduleList struct {
	Items []Schedule `json:"items"`
}

func (h *handlers) schedules(w http.ResponseWriter, r *http.Request) {
	if err := querykit.NewParams(r, Routes[9]).Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	querykit.WriteJSON(w, r, scheduleList{Items: h.svc.Schedules()})
}

func (h *handlers) schedule(w http.ResponseWriter, r *http.Request) {
	getSaved(h, w, r, Routes[11], h.svc.Schedule)
}

func (h *handlers) saveSchedule(w http.ResponseWriter, r *http.Request, id string, status int) {
	saveBody(h, w, r, id, status, "reporting/SaveReportSchedule", h.svc.SaveSchedule,
		func(sc Schedule) string { return "/v1/report-schedules/" + sc.ID })
}

func (h *handlers) createSchedule(w http.ResponseWriter, r *http.Request) {
	h.saveSchedule(w, r, "", http.StatusCreated)
}

func (h *handlers) updateSchedule(w http.ResponseWriter, r *http.Request) {
	h.saveSchedule(w, r, r.PathValue("id"), http.StatusOK)
}

func (h *handlers) deleteSchedule(w http.ResponseWriter, r *http.Request) {
	removeSaved(h, w, r, h.svc.DeleteSchedule)
}
