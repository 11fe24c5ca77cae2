// Package parseutil holds the small helpers the scanner parsers under importers/ share:
// fingerprint hashing, text truncation, identifier normalisation, severity mapping, list
// de-duplication and the merging of findings that share a fingerprint.
//
// Two families of parsers were written independently and some helpers exist in two variants that
// are deliberately kept apart, because changing either would change fingerprints or stored text
// of reports already imported:
//   - fingerprints: FingerprintJSON (nmap, trivy, grype, sarif) hashes the JSON array of the parts;
//     FingerprintCanonical (nessus, openvas, zap, cyclonedx) hashes Canonical(parts...).
//   - truncation: TruncateEllipsis (nmap, trivy, grype, sarif, error messages) keeps n bytes and
//     appends "…"; Truncate and Cut (nessus, openvas, zap, cyclonedx) keep at most max bytes in all,
//     TruncMark included.
//   - de-duplication: AppendUnique is unbounded; AddUnique keeps at most MaxList entries.
package parseutil
