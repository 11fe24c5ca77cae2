package app_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/domain"
	"github.com/socplatform/soc/events"
)

// The orchestrator with its default runner: the real nmap scans a loopback server that mimics
// the D-Link backdoor, the XML is kept and imported, and the finding lands on the target asset.
func TestOrchestratorRunsTheRealNmap(t *testing.T) {
	if _, err := exec.LookPath("nmap"); err != nil {
		if os.Getenv("SOC_REQUIRE_SERVERS") == "1" {
			t.Fatal("nmap is required (SOC_REQUIRE_SERVERS=1): install the Debian package nmap")
		}
		t.Skip("nmap is not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "thttpd-alphanetworks/2.23")
		if r.UserAgent() == "xmlset_roodkcableoj28840ybtide" {
			w.WriteHeader(http.StatusOK)
			return
		}
		// The router's header spelling, so nmap's version detection calls the port http.
		w.Header()["WWW-Authenticate"] = []string{`Basic realm="DI-524"`}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(l.Addr().String())

	store := testsupport.SQLiteStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	im := newImporter(t, store)
	orch, err := app.NewOrchestrator(app.OrchestratorConfig{Store: store, EvidenceDir: t.TempDir(),
		Import: im.Import})
	if err != nil {
		t.Fatal(err)
	}
	if err := orch.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = orch.Wait() }()
	asset := events.NewStreamID("assets", "asset")
	data, _ := json.Marshal(map[string]any{"kind": "host", "name": "router", "identifiers": map[string]any{"ips": []string{"127.0.0.1"}}})
	if _, err := store.Append(ctx, asset, events.NoStream, []events.Envelope{{Type: "AssetRegistered", Data: data}}); err != nil {
		t.Fatal(err)
	}
	def, err := orch.CreateDefinition(ctx, domain.Spec{Name: "router", Scanner: "nmap", Target: domain.Target{AssetID: asset},
		Options: &domain.NmapOptions{Ports: port, ServiceDetection: true, Scripts: []string{"http-dlink-backdoor"}}, TimeoutSeconds: 120}, es.Meta{Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := orch.RequestRun(ctx, def.ID, es.Meta{Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"run_id": run.ID, "attempt": 1})
	if err := commandBus(t, orch).Dispatch(ctx, "exec-1", app.CmdExecuteRun, b); err != nil {
		t.Fatal(err)
	}
	var r *domain.Run
	for {
		r = &domain.Run{}
		if _, err := es.Load(ctx, store, domain.RunStreamID(run.ID), r); err != nil {
			t.Fatal(err)
		}
		if r.Status.Terminal() {
			break
		}
		if err := store.WaitForAppend(ctx, 0); err != nil {
			t.Fatalf("waiting for the run: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r.Status != domain.RunCompleted || r.Import.New != 1 || r.Import.BySeverity["high"] != 1 {
		t.Fatalf("run %+v, import %+v", r, r.Import)
	}
	if r.Command[0] != "nmap" || r.Command[len(r.Command)-1] != "127.0.0.1" {
		t.Fatalf("command %v", r.Command)
	}
}
