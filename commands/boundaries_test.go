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

// TestDomainsImportNoOtherContext walks the dependencies (transitive, as go list -deps reports
// them) of every commands/<context>/domain package.
func TestDomainsImportNoOtherContext(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the go tool is needed to list the imports: %v", err)
	}
	list := func(args ...string) []string {
		out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
		if err != nil {
			t.Fatalf("go list %v: %v", args, err)
		}
		return strings.Fields(string(out))
	}
	var domains []string
	for _, p := range list(module + "...") {
		if strings.HasSuffix(p, "/domain") {
			domains = append(domains, p)
		}
	}
	if len(domains) < 4 {
		t.Fatalf("found only the domain packages %v", domains)
	}
	for _, d := range domains {
		if bad := crossContext(d, list("-deps", d)); len(bad) > 0 {
			t.Errorf("%s depends on other contexts' packages: %v", d, bad)
		}
	}
}
