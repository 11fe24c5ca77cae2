package govulncheck

import (
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// legacyResult is the one JSON object govulncheck wrote before its v1.0 streaming protocol
// (govulncheck -json of 2022, golang.org/x/vuln/vulncheck.Result): {"Calls", "Imports",
// "Requires", "Modules", "Vulns"}. Each Vulns entry is one (OSV entry, vulnerable symbol) with
// the level it was reached at as sink ids: CallSink (called), ImportSink (imported),
// RequireSink (required), 0 when not reached. Modules lists the module versions the build uses.
type legacyResult struct {
	seen    bool
	vulns   []legacyVuln
	modules map[string]string // module path → version
}

type legacyVuln struct {
	OSV         *gOSV  `json:"OSV"`
	Symbol      string `json:"Symbol"`
	PkgPath     string `json:"PkgPath"`
	ModPath     string `json:"ModPath"`
	CallSink    int64  `json:"CallSink"`
	ImportSink  int64  `json:"ImportSink"`
	RequireSink int64  `json:"RequireSink"`
}

type legacyModule struct {
	Path    string `json:"Path"`
	Version string `json:"Version"`
}

func (l *legacyResult) decode(w *jsonguard.Walker, key string) error {
	if key == "Vulns" {
		return jsonguard.Elements(w, "Vulns", &l.vulns, jsonguard.Tolerant{Required: []string{"OSV.id", "ModPath"}})
	}
	var mods []legacyModule
	if err := jsonguard.Elements(w, "Modules", &mods, jsonguard.Tolerant{Required: []string{"Path", "Version"}}); err != nil {
		return err
	}
	l.modules = map[string]string{}
	for _, m := range mods {
		l.modules[m.Path] = m.Version
	}
	return nil
}

// groups folds the entries into one group per (OSV id, module, version), as the streaming
// protocol's findings are folded: the deepest level any entry reached, the called symbols as
// the evidence. The result gives no fixed version (only the OSV ranges, which the vulns context
// reads from the advisory).
func (l *legacyResult) groups(osvs map[string]*gOSV, text *parseutil.Interner) []*group {
	var out []*group
	byKey := map[[3]string]*group{}
	for _, v := range l.vulns {
		if v.OSV == nil || v.OSV.ID == "" {
			continue
		}
		if _, ok := osvs[v.OSV.ID]; !ok {
			osvs[v.OSV.ID] = v.OSV
		}
		k := [3]string{v.OSV.ID, v.ModPath, l.modules[v.ModPath]}
		g := byKey[k]
		if g == nil {
			g = &group{osv: text.Intern(k[0]), module: text.Intern(k[1]), version: text.Intern(k[2])}
			byKey[k] = g
			out = append(out, g)
		}
		level := levelModule
		switch {
		case v.CallSink != 0:
			level = levelSymbol
			g.traces = parseutil.AddUnique(g.traces, parseutil.FirstNonEmpty(v.PkgPath, v.ModPath)+"."+v.Symbol)
		case v.ImportSink != 0:
			level = levelPackage
		}
		g.level = max(g.level, level)
	}
	return out
}
