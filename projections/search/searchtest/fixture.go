package searchtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/schemas/contracts"
)

// The fixture: eight assets of two teams (and one nobody owns), fourteen findings on them,
// six CVEs and six audit events, with the values analysts type — hostnames, IPv4 and IPv6
// addresses (one IPv4-mapped), CVE ids, purl-derived package names, phrases from real advisories.
// Every document a query of queries.go should return is written out by hand there, so the
// oracle (search.Answer) is checked against the fixture too, not only the backends against it.

// Asset, finding and event ids in the platform's forms.
func assetID(n int) string {
	return fmt.Sprintf("assets-asset-0190a%03d-0000-4000-8000-000000000000", n)
}
func findingID(n int) string {
	return fmt.Sprintf("vulns-finding-0190b%03d-0000-4000-8000-000000000000", n)
}
func eventID(n int) string { return fmt.Sprintf("0190c%03d-0000-7000-8000-000000000000", n) }

// label names a fixture id as queries.go does (a1, f12, e3; CVE ids as they are), for failures
// that read.
func label(id string) string {
	for _, p := range []struct{ prefix, pattern string }{
		{"a", "assets-asset-0190a%03d-"}, {"f", "vulns-finding-0190b%03d-"}, {"e", "0190c%03d-"},
	} {
		var n int
		if _, err := fmt.Sscanf(id, p.pattern, &n); err == nil {
			return p.prefix + strconv.Itoa(n)
		}
	}
	return id
}

func labels(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = label(id)
	}
	return out
}

var (
	a1, a2, a3, a4, a5, a6, a7, a8 = assetID(1), assetID(2), assetID(3), assetID(4), assetID(5), assetID(6), assetID(7), assetID(8)

	f1, f2, f3, f4, f5, f6, f7 = findingID(1), findingID(2), findingID(3), findingID(4), findingID(5), findingID(6), findingID(7)
	f8, f9, f10, f11, f12, f13 = findingID(8), findingID(9), findingID(10), findingID(11), findingID(12), findingID(13)
	f14                        = findingID(14)

	c1, c2, c3 = "CVE-2021-44228", "CVE-2022-3602", "CVE-2022-22965"
	c4, c5, c6 = "CVE-2018-15473", "CVE-2024-3094", "CVE-2019-11358"

	e1, e2, e3, e4, e5, e6 = eventID(1), eventID(2), eventID(3), eventID(4), eventID(5), eventID(6)
)

func at(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }

func num(x float64) *float64 { return &x }

func state(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// assets returns the fixture's assets.
func assets() []search.Doc {
	asset := func(id string, v int64, name, text, kind string, hosts, ips []string, team, env string, tags []string, when time.Time) search.Doc {
		return search.Doc{ID: id, Kind: search.KindAsset, Version: v, Title: name, Text: text, At: when, Status: "active",
			AssetID: id, AssetName: name, Hostnames: hosts, IPs: ips, Team: team, Environment: env, AssetKind: kind, Tags: tags,
			State: state(map[string]any{"name": name, "version": v})}
	}
	legacy := asset(a6, 4, "legacy-ftp", "Old FTP server nobody claims", "host", []string{"ftp.example.org"},
		[]string{"::ffff:172.16.4.4", "2001:db8:0:2::8"}, "", "production", nil, at(1, 7))
	legacy.Status = "retired"
	return []search.Doc{
		asset(a1, 3, "web-1", "Public web front end behind the load balancer", "host", []string{"web-1.prod.example.com", "www.example.com"},
			[]string{"10.0.1.15", "2001:db8:0:1::15"}, "platform", "production", []string{"internet-facing", "pci"}, at(1, 9)),
		asset(a2, 2, "web-2", "Second web node; serves the checkout pages", "host", []string{"web-2.prod.example.com"},
			[]string{"10.0.1.16", "2001:db8:0:1::16"}, "platform", "production", []string{"internet-facing"}, at(1, 10)),
		asset(a3, 1, "db-1", "PostgreSQL 13 primary for card payments", "host", []string{"db-1.payments.internal"},
			[]string{"10.20.0.5"}, "payments", "production", []string{"pci", "database"}, at(1, 11)),
		asset(a4, 2, "ci-runner-3", "Jenkins build agent", "host", []string{"ci-runner-3.staging.example.com"},
			[]string{"192.168.10.7"}, "platform", "staging", []string{"ci"}, at(1, 12)),
		asset(a5, 1, "registry.example.com/payments/api:1.4.2", "Payments API image built from the main branch", "container_image", nil,
			nil, "payments", "staging", []string{"pci"}, at(1, 13)),
		legacy,
		asset(a7, 1, "laptop-42", "Developer laptop", "host", []string{"laptop-42.corp.example.com"},
			[]string{"192.168.10.42"}, "payments", "development", []string{"endpoint"}, at(1, 14)),
		asset(a8, 2, "shop.example.com", "Customer shop front", "web_application", []string{"shop.example.com"},
			[]string{"203.0.113.10"}, "payments", "production", []string{"internet-facing", "pci"}, at(1, 15)),
	}
}

// findings returns the fixture's findings, each carrying its asset's fields (as Fold writes them).
func findings(assets []search.Doc) []search.Doc {
	byID := map[string]search.Doc{}
	for _, a := range assets {
		byID[a.ID] = a
	}
	type spec struct {
		id, asset, title, text, severity, status, scanner string
		v                                                 int64
		cves, cwes, packages                              []string
		kev                                               bool
		cvss, epss                                        *float64
		when                                              time.Time
	}
	specs := []spec{
		{id: f1, asset: a1, v: 1, title: "Apache Log4j2 remote code execution (Log4Shell)",
			text:     "The log4j-core 2.14.1 library on this host allows JNDI lookup injection. Upgrade log4j core to 2.17.1.",
			severity: "critical", status: "open", scanner: "trivy", cves: []string{c1}, cwes: []string{"CWE-502", "CWE-917"},
			packages: []string{"log4j-core", "org.apache.logging.log4j:log4j-core"}, kev: true, cvss: num(10), epss: num(0.975), when: at(2, 10)},
		{id: f2, asset: a3, v: 2, title: "Apache Log4j2 remote code execution (Log4Shell)",
			text:     "log4j-core 2.14.1 found in /opt/app/lib/log4j-core-2.14.1.jar",
			severity: "critical", status: "triaged", scanner: "grype", cves: []string{c1}, cwes: []string{"CWE-502", "CWE-917"},
			packages: []string{"log4j-core"}, kev: true, cvss: num(10), epss: num(0.975), when: at(2, 11)},
		{id: f3, asset: a1, v: 3, title: "OpenSSL X.509 email address buffer overflow",
			text:     "A buffer overrun can be triggered in X.509 certificate verification, specifically in name constraint checking.",
			severity: "high", status: "resolved", scanner: "trivy", cves: []string{c2}, cwes: []string{"CWE-120"},
			packages: []string{"openssl", "libssl3"}, cvss: num(7.5), epss: num(0.02), when: at(3, 8)},
		{id: f4, asset: a2, v: 1, title: "Reflected cross-site scripting in search page",
			text:     "The q parameter is echoed unescaped: <script>alert(1)</script> runs in the victim's browser.",
			severity: "medium", status: "open", scanner: "zap", cwes: []string{"CWE-79"}, when: at(3, 9)},
		{id: f5, asset: a4, v: 1, title: "OpenSSH username enumeration",
			text:     "OpenSSH through 7.7 is prone to a user enumeration vulnerability due to not delaying bailout for an invalid authenticating user.",
			severity: "medium", status: "open", scanner: "nessus", cves: []string{c4}, cwes: []string{"CWE-362"},
			packages: []string{"openssh-server"}, cvss: num(5.3), epss: num(0.6), when: at(3, 9)},
		{id: f6, asset: a5, v: 4, title: "Spring Framework RCE via data binding (Spring4Shell)",
			text:     "spring-beans 5.3.17 on JDK 9+ allows remote code execution via data binding.",
			severity: "critical", status: "in_remediation", scanner: "trivy", cves: []string{c3}, cwes: []string{"CWE-94"},
			packages: []string{"spring-beans", "org.springframework:spring-beans"}, kev: true, cvss: num(9.8), epss: num(0.974), when: at(4, 12)},
		{id: f7, asset: a5, v: 1, title: "zlib heap-based buffer over-read in inflateGetHeader",
			text:     "zlib through 1.2.12 has a heap-based buffer over-read or buffer overflow in inflate via a large gzip header extra field.",
			severity: "critical", status: "open", scanner: "trivy", cves: []string{"CVE-2022-37434"}, cwes: []string{"CWE-787"},
			packages: []string{"zlib", "zlib1g"}, cvss: num(9.8), epss: num(0.01), when: at(4, 12)},
		{id: f8, asset: a6, v: 1, title: "Anonymous FTP login allowed",
			text:     "The FTP server accepts the anonymous account; files can be read without credentials.",
			severity: "high", status: "open", scanner: "nessus", when: at(5, 7)},
		{id: f9, asset: a3, v: 2, title: "PostgreSQL md5 password hashing",
			text:     "Passwords are stored with md5; use scram-sha-256.",
			severity: "low", status: "risk_accepted", scanner: "nessus", cwes: []string{"CWE-916"}, cvss: num(3.1), when: at(5, 8)},
		{id: f10, asset: a2, v: 1, title: "TLS certificate expires in 14 days",
			text:     "The certificate for web-2.prod.example.com expires soon.",
			severity: "info", status: "open", scanner: "nessus", when: at(5, 9)},
		{id: f11, asset: a7, v: 1, title: "Log4j 1.2 SocketServer deserialization",
			text:     "Apache Log4j 1.2 includes a SocketServer class that is vulnerable to deserialization of untrusted data.",
			severity: "critical", status: "open", scanner: "trivy", cves: []string{"CVE-2019-17571"}, cwes: []string{"CWE-502"},
			packages: []string{"log4j"}, cvss: num(9.8), epss: num(0.11), when: at(6, 10)},
		{id: f12, asset: a8, v: 2, title: "jQuery prototype pollution",
			text:     "jQuery before 3.4.0 mishandles jQuery.extend(true, {}, ...) because of Object.prototype pollution.",
			severity: "medium", status: "closed", scanner: "zap", cves: []string{c6}, cwes: []string{"CWE-1321"},
			packages: []string{"jquery"}, cvss: num(6.1), epss: num(0.03), when: at(6, 11)},
		{id: f13, asset: a4, v: 3, title: "Jenkins script console reachable without authentication",
			text:     "Remote code execution through the Groovy script console.",
			severity: "high", status: "false_positive", scanner: "zap", when: at(6, 12)},
		{id: f14, asset: a8, v: 1, title: "xz backdoor in liblzma",
			text:     "Malicious code in xz 5.6.0 and 5.6.1 (liblzma) lets an attacker bypass sshd authentication.",
			severity: "critical", status: "open", scanner: "trivy", cves: []string{c5}, cwes: []string{"CWE-506"},
			packages: []string{"xz-utils", "liblzma5"}, cvss: num(10), when: at(7, 9)},
	}
	out := make([]search.Doc, len(specs))
	for i, s := range specs {
		a := byID[s.asset]
		out[i] = search.Doc{ID: s.id, Kind: search.KindFinding, Version: s.v, Title: s.title, Text: s.text, At: s.when,
			Severity: s.severity, Status: s.status, CVEs: s.cves, CWEs: s.cwes, Packages: s.packages, KEV: s.kev, CVSS: s.cvss,
			EPSS: s.epss, Scanner: s.scanner, AssetID: a.ID, AssetName: a.AssetName, Hostnames: a.Hostnames, IPs: a.IPs,
			Team: a.Team, Environment: a.Environment, AssetKind: a.AssetKind, Tags: a.Tags,
			State: state(map[string]any{"status": s.status, "asset": a.ID, "seen": i + 1})}
	}
	return out
}

// cves returns the fixture's CVE documents.
func cves() []search.Doc {
	cve := func(id string, v int64, severity string, cvss, epss *float64, kev bool, cwes []string, text string, when time.Time) search.Doc {
		return search.Doc{ID: id, Kind: search.KindCVE, Version: v, Title: id, Text: text, At: when, Severity: severity,
			CVEs: []string{id}, CWEs: cwes, KEV: kev, CVSS: cvss, EPSS: epss, State: state(map[string]any{"id": id})}
	}
	return []search.Doc{
		cve(c1, 5, "critical", num(10), num(0.975), true, []string{"CWE-502", "CWE-917"},
			"Apache Log4j2 2.0-beta9 through 2.15.0 JNDI features used in configuration, log messages, and parameters do not "+
				"protect against attacker controlled LDAP and other JNDI related endpoints. An attacker who can control log "+
				"messages can execute arbitrary code loaded from LDAP servers when message lookup substitution is enabled.", at(1, 1)),
		cve(c2, 2, "high", num(7.5), num(0.02), false, []string{"CWE-120"},
			"A buffer overrun can be triggered in X.509 certificate verification, specifically in name constraint checking.", at(1, 2)),
		cve(c3, 3, "critical", num(9.8), num(0.974), true, []string{"CWE-94"},
			"A Spring MVC or Spring WebFlux application running on JDK 9+ may be vulnerable to remote code execution (RCE) via data binding.", at(1, 3)),
		cve(c4, 1, "medium", num(5.3), num(0.6), false, []string{"CWE-362"},
			"OpenSSH through 7.7 is prone to a user enumeration vulnerability due to not delaying bailout for an invalid authenticating user.", at(1, 4)),
		cve(c5, 2, "critical", num(10), nil, false, []string{"CWE-506"},
			"Malicious code was discovered in the upstream tarballs of xz, starting with version 5.6.0.", at(1, 5)),
		cve(c6, 1, "medium", num(6.1), num(0.03), false, []string{"CWE-1321"},
			"jQuery before 3.4.0, as used in Drupal, Backdrop CMS, and other products, mishandles jQuery.extend(true, {}, ...) "+
				"because of Object.prototype pollution.", at(1, 6)),
	}
}

// events returns the fixture's audit-trail documents.
func events() []search.Doc {
	ev := func(id, typ, actor, stream, text string, when time.Time) search.Doc {
		return search.Doc{ID: id, Kind: search.KindEvent, Version: 1, Title: typ, Text: text, At: when, Actor: actor, EventType: typ, StreamID: stream}
	}
	about := func(d search.Doc, asset, name, team, env string) search.Doc {
		d.AssetID, d.AssetName, d.Team, d.Environment = asset, name, team, env
		return d
	}
	return []search.Doc{
		about(ev(e1, contracts.TypeFindingTriaged, "user:alice@example.com", f2, "Triaged: Apache Log4j2 remote code execution (Log4Shell) on db-1", at(8, 9)),
			a3, "db-1", "payments", "production"),
		about(ev(e2, contracts.TypeAssetRegistered, "user:bob@example.com", a1, "Registered asset web-1", at(8, 10)),
			a1, "web-1", "platform", "production"),
		about(ev(e3, contracts.TypeFindingResolved, "system:reimport", f3, "Resolved: not seen by scan", at(8, 11)),
			a1, "web-1", "platform", "production"),
		ev(e4, "TokenCreated", "user:admin@example.com", "identity-user-0190d001-0000-4000-8000-000000000000", "API token created for ci-pipeline", at(8, 12)),
		about(ev(e5, contracts.TypeFindingRiskAccepted, "user:carol@example.com", f9, "Risk accepted until 2026-06-30: compensating control", at(8, 13)),
			a3, "db-1", "payments", "production"),
		ev(e6, contracts.TypeScanImportCompleted, "token:ci-pipeline", "scans-import-0190e001-0000-4000-8000-000000000000", "trivy report imported: 12 findings", at(8, 14)),
	}
}

// batch is one Write of the fixture.
type batch struct {
	docs     []search.Doc
	position int64
}

// fixture returns the fixture's documents and the batches that write them, in increasing positions.
func fixture() ([]search.Doc, []batch) {
	as := assets()
	bs := []batch{
		{slices.Concat(as, cves()), 120},
		{findings(as), 250},
		{events(), 300},
	}
	var all []search.Doc
	for _, b := range bs {
		all = append(all, b.docs...)
	}
	return all, bs
}
