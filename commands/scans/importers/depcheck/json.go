package depcheck

import (
	"context"
	"io"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// JSON wire types: only the fields used.

type jVuln struct {
	Source      string `json:"source"`
	Name        string `json:"name"`
	Severity    string `json:"severity"`
	Description string `json:"description"`
	Notes       string `json:"notes"`
	CVSSv2      *struct {
		Score                 jsonguard.Score `json:"score"`
		AccessVector          string          `json:"accessVector"`
		AccessComplexity      string          `json:"accessComplexity"`
		Authenticationr       string          `json:"authenticationr"`
		ConfidentialityImpact string          `json:"confidentialityImpact"`
		ConfidentialImpact    string          `json:"confidentialImpact"`
		IntegrityImpact       string          `json:"integrityImpact"`
		AvailabilityImpact    string          `json:"availabilityImpact"`
		Severity              string          `json:"severity"`
	} `json:"cvssv2"`
	CVSSv3 *struct {
		BaseScore             jsonguard.Score `json:"baseScore"`
		AttackVector          string          `json:"attackVector"`
		AttackComplexity      string          `json:"attackComplexity"`
		PrivilegesRequired    string          `json:"privilegesRequired"`
		UserInteraction       string          `json:"userInteraction"`
		Scope                 string          `json:"scope"`
		ConfidentialityImpact string          `json:"confidentialityImpact"`
		IntegrityImpact       string          `json:"integrityImpact"`
		AvailabilityImpact    string          `json:"availabilityImpact"`
		BaseSeverity          string          `json:"baseSeverity"`
		Version               string          `json:"version"`
	} `json:"cvssv3"`
	CVSSv4 *struct {
		VectorString string          `json:"vectorString"`
		BaseScore    jsonguard.Score `json:"baseScore"`
	} `json:"cvssv4"`
	CWEs       []string `json:"cwes"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
}

type jDep struct {
	FileName string `json:"fileName"`
	FilePath string `json:"filePath"`
	SHA256   string `json:"sha256"`
	SHA1     string `json:"sha1"`
	MD5      string `json:"md5"`
	Packages []struct {
		ID string `json:"id"`
	} `json:"packages"`
	Vulnerabilities           []jVuln `json:"vulnerabilities"`
	SuppressedVulnerabilities []jVuln `json:"suppressedVulnerabilities"`
}

// depRequired are the members the fingerprint is made of; any other member of an unexpected
// JSON type is left out with a warning.
var depRequired = []string{"fileName", "filePath", "sha256", "sha1", "md5", "packages.id", "vulnerabilities.name", "suppressedVulnerabilities.name"}

func (p *Parser) parseJSON(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	var rep report
	var warnings []string
	tolerant := jsonguard.Tolerant{Required: depRequired, Warn: func(m string) { warnings = append(warnings, m) }}
	schema := false
	err = w.Document("report", func(key string) error {
		switch key {
		case "reportSchema":
			schema = true
			return w.Skip()
		case "scanInfo", "projectInfo":
			var info struct {
				EngineVersion string `json:"engineVersion"` // scanInfo's
				Name          string `json:"name"`          // projectInfo's
			}
			_, err := w.Decode(&info)
			if key == "scanInfo" {
				rep.engine = info.EngineVersion
			} else {
				rep.project = info.Name
			}
			return err
		case "dependencies":
			return jsonguard.Each(w, "dependencies", tolerant, func(d jDep) { rep.deps = append(rep.deps, d.dep()) })
		}
		return w.Skip()
	})
	if err != nil {
		return nil, err
	}
	if !schema {
		return nil, w.ErrAt(jsonguard.Pos{}, "not a Dependency-Check report: no reportSchema member")
	}
	out, err := build(ctx, &rep, append(warnings, w.Warnings()...))
	return importers.Bounded(out, err)
}

func (j *jDep) dep() dep {
	d := dep{FileName: j.FileName, FilePath: j.FilePath, SHA256: j.SHA256, SHA1: j.SHA1, MD5: j.MD5}
	for _, p := range j.Packages {
		d.Packages = parseutil.AppendUnique(d.Packages, p.ID)
	}
	for i := range j.Vulnerabilities {
		d.Vulns = append(d.Vulns, j.Vulnerabilities[i].vuln())
	}
	for i := range j.SuppressedVulnerabilities {
		d.Suppressed = append(d.Suppressed, j.SuppressedVulnerabilities[i].vuln())
	}
	return d
}

func (j *jVuln) vuln() vuln {
	v := vuln{Name: j.Name, Source: j.Source, Severity: j.Severity, Description: j.Description, Notes: j.Notes}
	if c := j.CVSSv2; c != nil {
		v.CVSSv2Severity = c.Severity
		v.CVSS = parseutil.AddCVSS(v.CVSS, cvss2(c.Score.Ptr(), c.AccessVector, c.AccessComplexity, c.Authenticationr,
			parseutil.FirstNonEmpty(c.ConfidentialityImpact, c.ConfidentialImpact), c.IntegrityImpact, c.AvailabilityImpact))
	}
	if c := j.CVSSv3; c != nil {
		v.CVSSv3Severity = c.BaseSeverity
		v.CVSS = parseutil.AddCVSS(v.CVSS, cvss3(c.Version, c.BaseScore.Ptr(), c.AttackVector, c.AttackComplexity, c.PrivilegesRequired,
			c.UserInteraction, c.Scope, c.ConfidentialityImpact, c.IntegrityImpact, c.AvailabilityImpact))
	}
	if c := j.CVSSv4; c != nil {
		v.CVSS = parseutil.AddCVSS(v.CVSS, cvss4(c.VectorString, c.BaseScore.Ptr()))
	}
	v.CWEs = parseutil.NormAll(j.CWEs, parseutil.NormCWE)
	for _, ref := range j.References {
		v.References = parseutil.AppendUnique(v.References, ref.URL)
	}
	return v
}
