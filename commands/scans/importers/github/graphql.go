package github

import (
	"strings"

	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// gqlAlert is a RepositoryVulnerabilityAlert node of the GraphQL API
// (repository { vulnerabilityAlerts { nodes { … } } }), as the queries teams export Dependabot
// alerts with write it: every field optional, since each query selects its own.
type gqlAlert struct {
	ID                     string           `json:"id"`
	Number                 jsonguard.LineNo `json:"number"` // some exports write it as a string
	State                  string           `json:"state"`
	DismissReason          string           `json:"dismissReason"`
	DismissComment         string           `json:"dismissComment"`
	DismissedAt            string           `json:"dismissedAt"`
	FixedAt                string           `json:"fixedAt"`
	VulnerableManifestPath string           `json:"vulnerableManifestPath"`
	VulnerableManifestFile string           `json:"vulnerableManifestFilename"`
	DependabotUpdate       *struct {
		PullRequest *struct {
			Permalink string `json:"permalink"`
		} `json:"pullRequest"`
	} `json:"dependabotUpdate"`
	SecurityVulnerability *struct {
		Severity               string `json:"severity"`
		VulnerableVersionRange string `json:"vulnerableVersionRange"`
		Package                pkg    `json:"package"`
		FirstPatchedVersion    *struct {
			Identifier string `json:"identifier"`
		} `json:"firstPatchedVersion"`
		Advisory *struct {
			GHSAID      string `json:"ghsaId"`
			Summary     string `json:"summary"`
			Description string `json:"description"`
			Permalink   string `json:"permalink"`
			Identifiers []struct {
				Type  string `json:"type"`
				Value string `json:"value"`
			} `json:"identifiers"`
			References []struct {
				URL string `json:"url"`
			} `json:"references"`
			CVSS *struct {
				Score        jsonguard.Score `json:"score"`
				VectorString string          `json:"vectorString"`
			} `json:"cvss"`
			CWEs *struct {
				Nodes []struct {
					CWEID string `json:"cweId"`
				} `json:"nodes"`
			} `json:"cwes"`
		} `json:"advisory"`
	} `json:"securityVulnerability"`
}

// gqlRepo is one repository object of a GraphQL answer: its name and its alerts.
type gqlRepo struct {
	repo   repository
	alerts []gqlAlert
}

// readGraphQL walks the data member of a GraphQL answer: data.repository (one repository), or
// data.search.nodes, data.organization.repositories.nodes or data.viewer.repositories.nodes
// (many), each repository holding vulnerabilityAlerts.nodes. It reports whether it saw any
// repository.
func (b *builder) readGraphQL(w *jsonguard.Walker, t jsonguard.Tolerant) (bool, error) {
	saw := false
	addAll := func(repos []gqlRepo, err error) error {
		saw = true
		for i := range repos {
			for j := range repos[i].alerts {
				b.add(repos[i].alerts[j].restAlert(repos[i].repo), nil)
			}
		}
		return err
	}
	err := w.Object("data", func(key string) error {
		switch key {
		case "repository":
			return addAll(readGQLRepo(w, t))
		case "search", "organization", "viewer":
			return w.Object(key, func(k string) error {
				if k != "nodes" && k != "repositories" {
					return w.Skip()
				}
				return addAll(readGQLRepos(w, t, key+"."+k))
			})
		}
		return w.Skip()
	})
	return saw, err
}

// readGQLRepos reads a list of repositories: an array of nodes, or a connection object holding
// one ({nodes: […]}).
func readGQLRepos(w *jsonguard.Walker, t jsonguard.Tolerant, what string) ([]gqlRepo, error) {
	var out []gqlRepo
	if w.Next() == '{' {
		err := w.Object(what, func(k string) error {
			if k != "nodes" {
				return w.Skip()
			}
			more, err := readGQLRepos(w, t, what+".nodes")
			out = append(out, more...)
			return err
		})
		return out, err
	}
	err := w.Array(what, func(int) error {
		more, err := readGQLRepo(w, t)
		out = append(out, more...)
		return err
	})
	return out, err
}

// readGQLRepo reads one repository object: the repository first, then those of a search nested
// in it (a query shape seen in exports), which take its name when they give none. The name is
// only known once the object is read, since it may follow the alerts.
func readGQLRepo(w *jsonguard.Walker, t jsonguard.Tolerant) ([]gqlRepo, error) {
	var r gqlRepo
	var nested []gqlRepo
	name := ""
	err := w.Object("repository", func(key string) (err error) {
		switch key {
		case "nameWithOwner":
			r.repo.FullName, err = w.Str()
		case "name":
			name, err = w.Str()
		case "url":
			r.repo.HTMLURL, err = w.Str()
		case "vulnerabilityAlerts":
			err = w.Object(key, func(k string) error {
				if k != "nodes" {
					return w.Skip()
				}
				return jsonguard.Elements(w, "vulnerabilityAlerts.nodes", &r.alerts, t)
			})
		case "search":
			err = w.Object(key, func(k string) error {
				if k != "nodes" {
					return w.Skip()
				}
				more, err := readGQLRepos(w, t, "search.nodes")
				nested = append(nested, more...)
				return err
			})
		default:
			err = w.Skip()
		}
		return err
	})
	if r.repo.FullName == "" {
		r.repo.FullName = name
	}
	for i := range nested {
		if nested[i].repo.FullName == "" {
			nested[i].repo = r.repo
		}
	}
	return append([]gqlRepo{r}, nested...), err
}

// restAlert is the GraphQL alert as the REST alert the Dependabot mapping reads, so that both
// APIs give the same finding for the same alert.
func (g *gqlAlert) restAlert(repo repository) *alert {
	a := &alert{
		Number:           int64(g.Number),
		State:            strings.ToLower(g.State),
		DismissedReason:  g.DismissReason,
		DismissedComment: g.DismissComment,
		nodeID:           g.ID,
		Dependency:       &dependency{ManifestPath: parseutil.FirstNonEmpty(g.VulnerableManifestPath, g.VulnerableManifestFile)},
	}
	if repo.FullName != "" {
		a.Repository = &repo
	}
	if a.State == "" { // older queries select the dates, not the state
		switch {
		case g.FixedAt != "":
			a.State = "fixed"
		case g.DismissedAt != "":
			a.State = "dismissed"
		}
	}
	if d := g.DependabotUpdate; d != nil && d.PullRequest != nil {
		a.links = append(a.links, d.PullRequest.Permalink)
	}
	v := g.SecurityVulnerability
	if v == nil {
		return a
	}
	a.Dependency.Package = v.Package
	a.SecurityVulnerability = &vulnerability{Package: v.Package, Severity: v.Severity, VulnerableVersionRange: v.VulnerableVersionRange, FirstPatchedVersion: v.FirstPatchedVersion}
	adv := v.Advisory
	if adv == nil {
		return a
	}
	a.links = append(a.links, adv.Permalink)
	a.SecurityAdvisory = &advisory{GHSAID: adv.GHSAID, Summary: adv.Summary, Description: adv.Description}
	for _, id := range adv.Identifiers {
		if strings.EqualFold(id.Type, "GHSA") && a.SecurityAdvisory.GHSAID == "" {
			a.SecurityAdvisory.GHSAID = id.Value
		}
		a.SecurityAdvisory.Identifiers = append(a.SecurityAdvisory.Identifiers, struct {
			Value string `json:"value"`
		}{id.Value})
	}
	for _, ref := range adv.References {
		a.SecurityAdvisory.References = append(a.SecurityAdvisory.References, ref)
	}
	if c := adv.CVSS; c != nil {
		a.SecurityAdvisory.CVSS = cvss{VectorString: c.VectorString, Score: c.Score}
	}
	if c := adv.CWEs; c != nil {
		for _, n := range c.Nodes {
			a.SecurityAdvisory.CWEs = append(a.SecurityAdvisory.CWEs, struct {
				CWEID string `json:"cwe_id"`
			}{n.CWEID})
		}
	}
	return a
}
