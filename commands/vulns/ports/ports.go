// Package ports holds the vulns context's command endpoints: POST /v1/findings/{id}/<command>.
package ports

import (
	"io/fs"
	"log/slog"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/httpcmd"
	"github.com/socplatform/soc/commands/vulns/app"
)

// Config of the endpoints.
type Config struct {
	Schemas      fs.FS        // the command schemas, "<context>/<Command>.json" (schemas.CommandsFS())
	MaxBodyBytes int64        // default 1 MiB
	Log          *slog.Logger // 5xx are logged here
	// Owners answers which team owns a finding's asset, for the commands of a team-restricted
	// principal (the assets context's live *assetapp.Lookup); without it such a principal's
	// commands find no finding.
	Owners app.Owners
}

// Mux is where routes go (httpcmd.Mux: an *http.ServeMux, or a wrapper that records the
// patterns).
type Mux = httpcmd.Mux

// Register adds the finding command routes to mux. store is the guarded event store.
func Register(mux Mux, store es.Store, cfg Config) error {
	srv, err := httpcmd.Open(cfg.Schemas, cfg.MaxBodyBytes, cfg.Log, app.SchemaNames...)
	if err != nil {
		return err
	}
	svc := app.New(store, cfg.Owners)
	mux.Handle("POST /v1/findings/{id}/triage", httpcmd.Handle(srv, "vulns/TriageFinding", httpcmd.ByID(svc.Triage)))
	mux.Handle("POST /v1/findings/{id}/start-remediation", httpcmd.Handle(srv, "vulns/StartRemediation", httpcmd.ByID(svc.StartRemediation)))
	mux.Handle("POST /v1/findings/{id}/resolve", httpcmd.Handle(srv, "vulns/ResolveFinding", httpcmd.ByID(svc.Resolve)))
	mux.Handle("POST /v1/findings/{id}/reopen", httpcmd.Handle(srv, "vulns/ReopenFinding", httpcmd.ByID(svc.Reopen)))
	mux.Handle("POST /v1/findings/{id}/false-positive", httpcmd.Handle(srv, "vulns/MarkFalsePositive", httpcmd.ByID(svc.MarkFalsePositive)))
	mux.Handle("POST /v1/findings/{id}/duplicate", httpcmd.Handle(srv, "vulns/MarkDuplicate", httpcmd.ByID(svc.MarkDuplicate)))
	mux.Handle("POST /v1/findings/{id}/accept-risk", httpcmd.Handle(srv, "vulns/AcceptRisk", httpcmd.ByID(svc.AcceptRisk)))
	mux.Handle("POST /v1/findings/{id}/assign", httpcmd.Handle(srv, "vulns/AssignFinding", httpcmd.ByID(svc.Assign)))
	mux.Handle("POST /v1/findings/{id}/comment", httpcmd.Handle(srv, "vulns/CommentFinding", httpcmd.ByID(svc.Comment)))
	mux.Handle("POST /v1/findings/{id}/due-date", httpcmd.Handle(srv, "vulns/SetDueDate", httpcmd.ByID(svc.SetDueDate)))
	return nil
}
