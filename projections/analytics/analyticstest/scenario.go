package analyticstest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/socplatform/soc/schemas/contracts"
)

// Random builds a seeded random scenario on l: assets across teams, environments, kinds and
// tags; findings of every severity opened over the weeks by scans of several scanners, and
// worked through their lifecycle (triage, remediation, resolution by reimport and by hand,
// closure, reopening, risk acceptance, false positives, duplicates, severity changes on
// reimport, due dates and their breaches, KEV and EPSS changes); assets reclassified, renamed,
// merged; scan imports completed (v1 and v2) and failed. steps is roughly the number of events.
func Random(l *Log, seed uint64, assets, steps int) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	teams := []string{"red", "blue", "green", ""}
	envs := []contracts.Environment{"production", "staging", "development", ""}
	kinds := []contracts.AssetKind{"host", "container_image", "repository", "web_application"}
	tagSets := [][]string{{"pci"}, {"internet", "pci"}, {"internet"}, nil}
	crits := []contracts.Criticality{"critical", "high", "medium", "low", ""}
	sevs := []contracts.Severity{"critical", "high", "medium", "low", "info"}
	formats := []string{"trivy", "nessus", "zap", "semgrep"}
	pick := func(n int) int { return r.IntN(n) }

	for a := 1; a <= assets; a++ {
		l.Register(a, AssetSpec{Name: fmt.Sprintf("asset-%d", a), Kind: kinds[pick(len(kinds))], Team: teams[pick(len(teams))],
			Environment: envs[pick(len(envs))], Tags: tagSets[pick(len(tagSets))], Criticality: crits[pick(len(crits))]})
	}
	type fstate struct {
		status string
		sev    contracts.Severity
		due    time.Time
		asset  int
	}
	var fs []*fstate
	merged := map[int]bool{}
	scan := 0
	open := func(s string) bool {
		return s == "open" || s == "reopened" || s == "triaged" || s == "in_remediation"
	}
	for i := 0; i < steps; i++ {
		l.Advance(time.Duration(r.IntN(8*3600)) * time.Second)
		action := pick(100)
		if action < 25 || len(fs) == 0 { // a scan import: new findings and reimports
			scan++
			format := formats[pick(len(formats))]
			if pick(10) == 0 {
				l.ScanFailed(scan, format)
				continue
			}
			for k := 0; k < 1+pick(3); k++ {
				a := 1 + pick(assets)
				if merged[a] {
					continue
				}
				fs = append(fs, &fstate{status: "open", sev: sevs[pick(len(sevs))], asset: a})
				n := len(fs)
				cve := ""
				if pick(2) == 0 {
					cve = fmt.Sprintf("CVE-2026-%04d", n)
				}
				l.Open(n, FindingSpec{Asset: a, Severity: fs[n-1].sev, Format: format, CVE: cve, Scan: scan, V1: pick(4) == 0})
			}
			for k := 0; k < pick(3); k++ { // seen again, sometimes at another severity
				n := 1 + pick(len(fs))
				f := fs[n-1]
				if !open(f.status) {
					continue
				}
				if pick(3) == 0 {
					sev := sevs[pick(len(sevs))]
					if sev != f.sev {
						l.Seen(n, scan, sev, f.sev)
						f.sev = sev
						continue
					}
				}
				l.Seen(n, scan, "", "")
			}
			l.ScanCompleted(scan, format, pick(3) == 0)
			continue
		}
		if action < 30 { // asset changes
			a := 1 + pick(assets)
			if merged[a] {
				continue
			}
			switch pick(4) {
			case 0:
				team := teams[pick(len(teams))]
				l.Classify(a, contracts.AssetClassified{OwnerTeam: &team})
			case 1:
				env := envs[pick(len(envs)-1)]
				crit := crits[pick(len(crits)-1)]
				tags := tagSets[pick(len(tagSets))]
				if tags == nil {
					tags = []string{}
				}
				l.Classify(a, contracts.AssetClassified{Environment: &env, Criticality: &crit, Tags: &tags})
			case 2:
				l.Rename(a, fmt.Sprintf("asset-%d-renamed-%d", a, i))
			default:
				b := 1 + pick(assets)
				if b != a && !merged[b] && pick(4) == 0 {
					l.Merge(a, b)
					merged[a] = true
				}
			}
			continue
		}
		n := 1 + pick(len(fs))
		f := fs[n-1]
		switch {
		case open(f.status):
			switch pick(12) {
			case 0, 1:
				l.Triage(n)
				f.status = "triaged"
			case 2:
				l.StartRemediation(n)
				f.status = "in_remediation"
			case 3:
				l.Resolve(n, scan)
				f.status = "resolved"
			case 4:
				l.Resolve(n, 0)
				f.status = "resolved"
			case 5:
				l.Close(n, scan)
				f.status = "closed"
			case 6:
				if pick(2) == 0 {
					l.AcceptRisk(n)
					f.status = "risk_accepted"
				} else if pick(2) == 0 {
					l.FalsePositive(n)
					f.status = "false_positive"
				} else {
					l.Duplicate(n, 1+pick(len(fs)))
					f.status = "duplicate"
				}
			case 7:
				f.due = l.Now.Add(time.Duration(1+pick(30*24)) * time.Hour)
				l.Due(n, f.due)
			case 8:
				if !f.due.IsZero() && l.Now.After(f.due) {
					l.Breach(n, f.due, f.sev, f.status)
				} else {
					l.Assign(n)
				}
			case 9:
				kev := pick(3) != 0
				var epss *float64
				if pick(2) == 0 {
					v := float64(pick(1001)) / 1000
					epss = &v
				}
				l.Exploitability(n, &kev, epss)
			case 10:
				l.Comment(n)
			default:
				l.Seen(n, scan, "", "")
			}
		case f.status == "resolved" && pick(3) == 0:
			l.Close(n, scan)
			f.status = "closed"
		case f.status == "resolved" || f.status == "closed":
			if pick(2) == 0 {
				l.Reopen(n, scan)
			} else {
				l.Reopen(n, 0)
			}
			f.status = "reopened"
		default:
			l.Comment(n)
		}
	}
}

// small is the hand-computed scenario (see TestSmall's expectations): two assets, four
// findings over one week of March 2026.
func small(l *Log) {
	d := func(day, hour int) time.Time { return time.Date(2026, 3, 2+day, hour, 0, 0, 0, time.UTC) }
	at := func(t time.Time) { l.Now = t }
	at(d(0, 8))
	l.Register(1, AssetSpec{Name: "web-1", Team: "red", Environment: "production", Tags: []string{"pci"}, Criticality: "high"})
	l.Register(2, AssetSpec{Name: "img-2", Kind: "container_image", Team: "blue", Environment: "staging"})
	l.ScanCompleted(1, "trivy", false)
	at(d(0, 9))
	l.Open(1, FindingSpec{Asset: 1, Severity: "critical", CVE: "CVE-2026-0001", Scan: 1})
	at(d(0, 10))
	l.Open(2, FindingSpec{Asset: 2, Severity: "high", Format: "nessus", Scan: 1})
	at(d(0, 11))
	l.Open(3, FindingSpec{Asset: 1, Severity: "low", Scan: 1, V1: true})
	at(d(1, 9))
	l.Triage(1)
	l.Due(1, d(3, 9))
	at(d(2, 9))
	l.Resolve(2, 0)
	at(d(2, 12))
	l.ScanFailed(2, "nessus")
	at(d(3, 9))
	l.Open(4, FindingSpec{Asset: 2, Severity: "medium", Scan: 3})
	l.Due(4, d(8, 9))
	at(d(3, 10))
	kev, epss := true, 0.35
	l.Exploitability(4, &kev, &epss)
	at(d(4, 9))
	l.Breach(1, d(3, 9), "critical", "triaged")
	at(d(4, 10))
	l.Exploitability(1, &kev, nil)
	at(d(5, 9))
	l.Resolve(1, 4)
	at(d(5, 10))
	l.FalsePositive(3)
}
