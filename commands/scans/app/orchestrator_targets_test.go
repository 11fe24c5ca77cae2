package app_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// fakeResolver answers for the names it holds and says "no such host" for the others: DNS
// names that resolve to chosen addresses cannot be had here otherwise.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// registerAsset appends an active host asset with the IP addresses given and returns its id.
func (e *orchEnv) registerAsset(ips ...string) string {
	e.t.Helper()
	id := events.NewStreamID("assets", "asset")
	data, _ := json.Marshal(map[string]any{"kind": "host", "name": "lab", "identifiers": map[string]any{"ips": ips}})
	if _, err := e.store.Append(e.ctx, id, events.NoStream, []events.Envelope{{Type: contracts.TypeAssetRegistered, Data: data}}); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// An nmap definition whose run the allowlist would refuse is refused when it is created or
// updated: 422 naming the address (or the targeted asset), nothing appended. What cannot be
// told then (a name that does not resolve, an asset not registered yet) is left to the run, and
// external definitions, whose targets this platform never scans, are not checked.
func TestDefinitionTargetsAreCheckedWhenWritten(t *testing.T) {
	e := newOrchEnv(t)
	e.stop()
	e.resolver = fakeResolver{
		"lab.test":  {netip.MustParseAddr("127.0.0.2")},
		"mail.test": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.0.2.7")},
	}
	e.start()
	outside := e.registerAsset("127.0.0.1", "192.0.2.10")
	with := func(mod func(*domain.Spec)) domain.Spec {
		s := nmapSpec(1, 0)
		mod(&s)
		return s
	}
	addrs := func(a ...string) domain.Spec {
		return with(func(s *domain.Spec) { s.Target = domain.Target{Addresses: a} })
	}
	for _, tc := range []struct {
		name       string
		spec       domain.Spec
		field, why string
	}{
		{"address", addrs("127.0.0.1", "192.0.2.10"), "/target/addresses/1", "192.0.2.10"},
		{"IPv6 address", addrs("::1", "2001:db8::1"), "/target/addresses/1", "2001:db8::1"},
		{"prefix outside", addrs("192.0.2.0/24"), "/target/addresses/0", "not within the allowed targets"},
		{"prefix too large", addrs("127.0.0.1", "127.0.0.0/8"), "/target/addresses/1", "prefix too large"},
		{"host name resolving outside", addrs("lab.test", "mail.test"), "/target/addresses/1", "192.0.2.7"},
		{"the asset's address", with(func(s *domain.Spec) { s.Target = domain.Target{AssetID: outside} }), "/target/asset_id", "192.0.2.10"},
	} {
		_, err := e.orch.CreateDefinition(e.ctx, tc.spec, es.Meta{Actor: "alice"})
		if p := problem.From(err); p.Status != http.StatusUnprocessableEntity || p.Field != tc.field || !strings.Contains(p.Detail, tc.why) {
			t.Errorf("%s: %v (%+v), want a 422 naming %s and saying %q", tc.name, err, p, tc.field, tc.why)
		}
	}
	if err := e.orch.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if defs := e.orch.Definitions(); len(defs) != 0 {
		t.Fatalf("refused definitions were written: %+v", defs)
	}

	accepted := []domain.Spec{
		addrs("127.0.0.1", "lab.test", "nowhere.test"),
		with(func(s *domain.Spec) { s.Target = domain.Target{AssetID: events.NewStreamID("assets", "asset")} }),
		with(func(s *domain.Spec) {
			s.Scanner, s.Format, s.Options, s.Target = domain.ScannerExternal, "trivy", nil, domain.Target{Addresses: []string{"192.0.2.10"}}
		}),
	}
	var ids []string
	for _, s := range accepted {
		res, err := e.orch.CreateDefinition(e.ctx, s, es.Meta{Actor: "alice"})
		if err != nil {
			t.Fatalf("%+v: %v", s.Target, err)
		}
		ids = append(ids, res.ID)
	}

	_, err := e.orch.UpdateDefinition(e.ctx, ids[0], addrs("127.0.0.1", "198.51.100.1"), nil, es.Meta{Actor: "alice"})
	if p := problem.From(err); p.Status != http.StatusUnprocessableEntity || p.Field != "/target/addresses/1" {
		t.Fatalf("update: %v (%+v)", err, p)
	}
	if err := e.orch.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := e.orch.Definition(ids[0]); d.Version != 1 || !slices.Equal(d.Target.Addresses, []string{"127.0.0.1", "lab.test", "nowhere.test"}) {
		t.Fatalf("the refused update changed the definition: %+v", d)
	}
	if _, err := e.orch.UpdateDefinition(e.ctx, ids[0], addrs("127.0.0.3"), nil, es.Meta{Actor: "alice"}); err != nil {
		t.Fatalf("update within the allowlist: %v", err)
	}
}

// The run checks its targets again: an asset's addresses can leave the allowlist after its
// definition was accepted. The run then fails for good without calling the scanner.
func TestOrchestratorRefusesTargetsOutsideTheAllowlist(t *testing.T) {
	e := newOrchEnv(t)
	asset := e.registerAsset("127.0.0.1")
	spec := nmapSpec(3, 1)
	spec.Target = domain.Target{AssetID: asset, Addresses: []string{"127.0.0.1"}}
	def := e.define(spec)
	data, _ := json.Marshal(map[string]any{"identifiers": map[string]any{"ips": []string{"127.0.0.1", "192.0.2.10"}}})
	if _, err := e.store.Append(e.ctx, asset, events.Exact(1), []events.Envelope{{Type: contracts.TypeAssetUpdated, Data: data}}); err != nil {
		t.Fatal(err)
	}
	runID := e.manualRun(def)
	e.command("c1", app.CmdExecuteRun, map[string]any{"run_id": runID, "attempt": 1})
	got := e.waitFor(runID, 4)
	if !slices.Equal(got[1:], []string{contracts.TypeScanStarted, contracts.TypeScanAttemptFailed, contracts.TypeScanFailed}) {
		t.Fatalf("events %v", got)
	}
	if e.run.calls != 0 {
		t.Fatal("the runner was called for a refused target")
	}
	if r := e.loadRun(runID); !strings.Contains(r.LastError, "192.0.2.10") {
		t.Fatalf("error %q", r.LastError)
	}
}
