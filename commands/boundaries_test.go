package commands

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/socplatform/soc/commands/"

// contextOf is the bounded context a package of this module belongs to ("assets" for
// commands/assets/domain), or "" for the shared internal packages and packages of other modules.
func contextOf(pkg string) string {
	rest, ok := strings.CutPrefix(pkg, module)
	if !ok {
		return ""
	}
	ctx, _, _ := strings.Cut(rest, "/")
	if ctx == "internal" {
		return ""
	}
	return ctx
}

// crossContext lists the dependencies of a context's domain package that belong to another
// context: a domain speaks only its own context's language (other contexts' types are
// translated by the app layers, through ports).
func crossContext(domainPkg string, deps []string) []string {
	own := contextOf(domainPkg)
	var bad []string
	for _, d := range deps {
		if c := contextOf(d); c != "" && c != own {
			bad = append(bad, d)
		}
	}
	return bad
}

func TestCrossContextFindsForeignPackages(t *testing.T) {
	got := crossContext(module+"assets/domain", []string{
		"fmt", module + "internal/es", module + "assets/domain", "github.com/socplatform/soc/events",
		module + "scans/importers", module + "vulns/domain",
	})
	want := []string{module + "scans/importers", module + "vulns/domain"}
	if !slices.Equal(got, want) {
		t.Fatalf("crossContext = %v, want %v", got, want)
	}
}

// goList runs go list with args and returns the words it prints (package paths).
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

// layer lists this module's packages named for a layer ("domain", "app"); a test of the layer
// fails when there are fewer than min, so a layout change cannot make it pass by finding none.
func layer(t *testing.T, name string, min int) []string {
	var out []string
	for _, p := range goList(t, module+"...") {
		if strings.HasSuffix(p, "/"+name) {
			out = append(out, p)
		}
	}
	if len(out) < min {
		t.Fatalf("found only the %s packages %v", name, out)
	}
	return out
}

// TestDomainsImportNoOtherContext walks the dependencies (transitive, as go list -deps reports
// them) of every commands/<context>/domain package.
func TestDomainsImportNoOtherContext(t *testing.T) {
	for _, d := range layer(t, "domain", 4) {
		if bad := crossContext(d, goList(t, "-deps", d)); len(bad) > 0 {
			t.Errorf("%s depends on other contexts' packages: %v", d, bad)
		}
	}
}

// TestAppLayersTakeNoHTTPTypes: command handlers take typed commands and an es.Invocation; the
// ports translate requests (httpcmd) into them. Only direct imports count: the command bus the
// app layers register with validates payloads with httpcmd's schema decoder.
func TestAppLayersTakeNoHTTPTypes(t *testing.T) {
	for _, a := range layer(t, "app", 4) {
		if slices.Contains(goList(t, "-f", "{{join .Imports \"\\n\"}}", a), module+"internal/httpcmd") {
			t.Errorf("%s imports %sinternal/httpcmd", a, module)
		}
	}
}

// foreignDomains lists the imports of a context's package that are another context's domain
// (commands/<other>/domain or a package under it).
func foreignDomains(pkg string, imports []string) []string {
	own := contextOf(pkg)
	var bad []string
	for _, d := range imports {
		c := contextOf(d)
		if c == "" || c == own {
			continue
		}
		if rest := strings.TrimPrefix(d, module+c); rest == "/domain" || strings.HasPrefix(rest, "/domain/") {
			bad = append(bad, d)
		}
	}
	return bad
}

func TestForeignDomainsFindsOtherContextsDomains(t *testing.T) {
	got := foreignDomains(module+"scans/app", []string{
		"fmt", module + "scans/domain", module + "assets/app", module + "assets/domain", module + "internal/es",
		module + "vulns/domain/sub", module + "vulns/domainish", "github.com/socplatform/soc/events",
	})
	want := []string{module + "assets/domain", module + "vulns/domain/sub"}
	if !slices.Equal(got, want) {
		t.Fatalf("foreignDomains = %v, want %v", got, want)
	}
}

// appDomainDebt are the app layers that still import another context's domain, and which: each
// is to go (through a port declared by the app and implemented by the other context's app
// layer, or through events). The list may only shrink: a new import fails the test, and so does
// an entry that is no longer needed.
var appDomainDebt = map[string][]string{
	// The importer's findings catalogue folds vulns.Finding aggregates to decide reimports.
	module + "scans/app": {module + "vulns/domain"},
	// The planner folds assets and findings from their streams to pick recipients.
	module + "notifications/app": {module + "assets/domain", module + "vulns/domain"},
}

// TestAppLayersImportNoOtherContextsDomain: an app layer reaches another context through the
// ports it declares, implemented by that context's app layer, never by importing its domain
// (the import's asset discovery goes through the assets app's Lookup). Only direct, non-test
// imports count: an app layer depends on the other context's app, which depends on its domain.
func TestAppLayersImportNoOtherContextsDomain(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range layer(t, "app", 4) {
		bad := foreignDomains(a, goList(t, "-f", "{{join .Imports \"\\n\"}}", a))
		seen[a] = true
		if want := appDomainDebt[a]; !slices.Equal(bad, want) {
			t.Errorf("%s imports other contexts' domains %v; the known debt is %v (remove what is gone from appDomainDebt, never add to it)", a, bad, want)
		}
	}
	for a := range appDomainDebt {
		if !seen[a] {
			t.Errorf("appDomainDebt names %s, which is no app layer any more", a)
		}
	}
}
