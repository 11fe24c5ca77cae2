package ports

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/app"
)

// TestImportAssetAndCloseMissing: ?asset= is checked before the report is accepted (an unknown
// asset is a 400 naming /asset, and nothing runs); a known one and ?close_missing= reach the
// command.
func TestImportAssetAndCloseMissing(t *testing.T) {
	ran := make(chan app.ImportScanReport, 4)
	cfg := ImportsConfig{CheckAsset: func(_ context.Context, ref string) error {
		if ref != "web01" {
			return &app.UnknownAssetError{Ref: ref, Reason: "no live asset has this id or name"}
		}
		return nil
	}}
	srv := server(t, cfg, func(ctx context.Context, cmd app.ImportScanReport) (app.Summary, error) {
		ran <- cmd
		return app.Summary{ScanID: cmd.ScanID}, nil
	})
	code, body := post(t, srv, "?asset=nope", "application/json", strings.NewReader(`{}`))
	if code != http.StatusBadRequest || body["field"] != "/asset" {
		t.Fatalf("unknown asset: %d %v", code, body)
	}
	if code, body := post(t, srv, "?close_missing=maybe", "application/json", strings.NewReader(`{}`)); code != http.StatusBadRequest {
		t.Fatalf("close_missing=maybe: %d %v", code, body)
	}
	code, body = post(t, srv, "?asset=web01&close_missing=true", "application/json", strings.NewReader(`{}`))
	if code != http.StatusAccepted {
		t.Fatalf("known asset: %d %v", code, body)
	}
	waitJob(t, srv, body["scan_id"].(string))
	cmd := <-ran
	if cmd.Asset != "web01" || !cmd.CloseMissing {
		t.Fatalf("command %+v", cmd)
	}
	select {
	case cmd := <-ran:
		t.Fatalf("a refused request ran: %+v", cmd)
	default:
	}
}
