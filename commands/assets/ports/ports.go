// Package ports holds the assets context's command endpoints: POST /v1/assets and
// POST /v1/assets/{id}/<command> (PATCH /v1/assets/{id} updates as well).
package ports

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/socplatform/soc/commands/assets/app"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/httpcmd"
)

// Config of the endpoints.
type Config struct {
	Schemas      fs.FS        // the command schemas, "<context>/<Command>.json" (schemas.CommandsFS())
	MaxBodyBytes int64        // default 1 MiB
	Log          *slog.Logger // 5xx are logged here
}

// Mux is where routes go (httpcmd.Mux: an *http.ServeMux, or a wrapper that records the
// patterns).
type Mux = httpcmd.Mux

// Register adds the asset command routes to mux. store is the guarded event store; claims
// (the assets context's live *app.Lookup) refuses a second live asset with the same strong
// identifier, and may be nil.
func Register(mux Mux, store es.Store, claims app.Claims, cfg Config) error {
	srv, err := httpcmd.Open(cfg.Schemas, cfg.MaxBodyBytes, cfg.Log, app.SchemaNames...)
	if err != nil {
		return err
	}
	svc := app.New(store, claims)
	mux.Handle("POST /v1/assets", httpcmd.Handle(srv, "assets/RegisterAsset",
		func(ctx context.Context, _ *http.Request, cmd app.RegisterAsset, inv es.Invocation) (httpcmd.Result, error) {
			out, err := svc.Register(ctx, cmd, inv)
			return httpcmd.Result{Outcome: out, Location: "/v1/assets/" + out.StreamID}, err
		}))
	update := httpcmd.Handle(srv, "assets/UpdateAsset", httpcmd.ByID(svc.Update))
	mux.Handle("PATCH /v1/assets/{id}", update)
	mux.Handle("POST /v1/assets/{id}/update", update)
	mux.Handle("POST /v1/assets/{id}/classify", httpcmd.Handle(srv, "assets/ClassifyAsset", httpcmd.ByID(svc.Classify)))
	mux.Handle("POST /v1/assets/{id}/link", httpcmd.Handle(srv, "assets/LinkAsset", httpcmd.ByID(svc.Link)))
	mux.Handle("POST /v1/assets/{id}/unlink", httpcmd.Handle(srv, "assets/UnlinkAsset", httpcmd.ByID(svc.Unlink)))
	mux.Handle("POST /v1/assets/{id}/retire", httpcmd.Handle(srv, "assets/RetireAsset", httpcmd.ByID(svc.Retire)))
	mux.Handle("POST /v1/assets/{id}/reactivate", httpcmd.Handle(srv, "assets/ReactivateAsset", httpcmd.ByID(svc.Reactivate)))
	mux.Handle("POST /v1/assets/{id}/merge", httpcmd.Handle(srv, "assets/MergeAssets", httpcmd.ByID(svc.Merge)))
	return nil
}
