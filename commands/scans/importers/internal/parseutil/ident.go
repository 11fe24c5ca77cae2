package parseutil

import (
	"regexp"
	"strconv"
	"strings"
)

var (
	reCVE  = regexp.MustCompile(`^(?i)CVE-\d{4}-\d{4,}$`)
	reGHSA = regexp.MustCompile(`^(?i)GHSA(-[0-9a-z]{4}){3}$`)
	reCWE  = regexp.MustCompile(`^(?i)(?:external/cwe/)?cwe[-_:/ ]?0*(\d{1,7})(?:$|[^0-9])`)
)

// NormAll is the ids that norm (NormCVE, NormGHSA, NormCWE) accepts, normalised, each once, in
// order: the identifier lists scanners write (Snyk identifiers, Dependency-Check cwes), which may
// hold other words ("NVD-CWE-Other").
func NormAll(ids []string, norm func(string) (string, bool)) []string {
	var out []string
	for _, id := range ids {
		if n, ok := norm(id); ok {
			out = AppendUnique(out, n)
		}
	}
	return out
}

// NormCVE returns id as "CVE-YYYY-NNNN" when it is a CVE id.
func NormCVE(id string) (string, bool) {
	id = strings.TrimSpace(id)
	if !reCVE.MatchString(id) {
		return "", false
	}
	return strings.ToUpper(id), true
}

// NormGHSA returns id as "GHSA-xxxx-xxxx-xxxx" when it is a GitHub advisory id.
func NormGHSA(id string) (string, bool) {
	id = strings.TrimSpace(id)
	if !reGHSA.MatchString(id) {
		return "", false
	}
	return "GHSA" + strings.ToLower(id[4:]), true
}

// NormCWE returns "CWE-<n>" for "CWE-79", "cwe-079", "external/cwe/cwe-079" or "CWE-79: Improper
// Neutralization…"; a bare number is not taken for a CWE.
func NormCWE(s string) (string, bool) {
	m := reCWE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", false
	}
	return "CWE-" + m[1], true
}

// CWENumber returns "CWE-<n>" for "79", "CWE-79" or "CWE:79" (Nessus and GVM write the number
// alone in their CWE elements and columns), "" for anything else or n out of 1..999999.
func CWENumber(v string) string {
	v = strings.ToUpper(strings.TrimSpace(v))
	v = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(v, "CWE-"), "CWE:"))
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n >= 1_000_000 {
		return ""
	}
	return "CWE-" + strconv.Itoa(n)
}

// PurlType is the package type of a package URL ("pkg:npm/…" → "npm").
func PurlType(purl string) string {
	rest, ok := strings.CutPrefix(purl, "pkg:")
	if !ok {
		return ""
	}
	rest = strings.TrimLeft(rest, "/")
	if i := strings.IndexByte(rest, '/'); i > 0 {
		return strings.ToLower(rest[:i])
	}
	return ""
}

// PackageType is the package type of a component: its package URL's (PurlType), else what types
// maps kind to (the scanner's own word for the package's ecosystem, lower-cased), else kind
// lower-cased.
func PackageType(purl, kind string, types map[string]string) string {
	if t := PurlType(purl); t != "" {
		return t
	}
	kind = strings.ToLower(kind)
	if t, ok := types[kind]; ok {
		return t
	}
	return kind
}

// RepoDigest picks, from a container image's repo digests ("repo@sha256:…"), the digest of the
// repository that name (an image reference, its tag or digest ignored) refers to, else the first
// digest; "" when there is none. With pathSuffix, a digest whose repository is a trailing path
// of name's ("library/x" of "docker.io/library/x") is the repository's too (the grype parser
// asks for it, the trivy parser does not).
func RepoDigest(name string, repoDigests []string, pathSuffix bool) string {
	repo := name
	if i := strings.IndexByte(repo, '@'); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndexByte(repo, ':'); i >= 0 && !strings.Contains(repo[i:], "/") {
		repo = repo[:i]
	}
	var first string
	for _, d := range repoDigests {
		at := strings.LastIndexByte(d, '@')
		if at < 0 {
			continue
		}
		if first == "" {
			first = d[at+1:]
		}
		if d[:at] == repo || pathSuffix && strings.HasSuffix(repo, "/"+d[:at]) {
			return d[at+1:]
		}
	}
	return first
}
