// Package app is the application service of a scan import (the scans bounded context): the
// handler of ImportScanReport reads a scanner report with one of the importers' parsers, matches
// the assets the report is about and has the assets context register the new ones
// (AssetRegistry), and has the vulns context record what the report means for every finding
// (FindingRecorder, in batches); each context appends to its own streams through the guarded
// event store (every append is validated against schemas/events). The import answers a Summary.
//
// # Reimport done right
//
// A finding's identity is (asset, vulnerability or rule id, component+version or location). The
// parser's fingerprint covers the last two within a report's asset; the importer prefixes the
// matched asset's stream id and the format:
//
//	identity key   <asset stream id>|<format>|<fingerprint>
//	scope          <asset stream id>|<format>
//	stream id      es.StreamIDFor("vulns", "finding", identity key)   (vulns-finding-<uuidv5>)
//
// so the same CVE on two packages is two findings, and the same report imported twice lands on
// the same streams. For every finding of the report:
//
//	not known                              FindingOpened (+ FindingDueDateSet from the SLA policy, by
//	                                       severity and the asset's criticality; none for info)
//	open, reopened, triaged, in_remediation FindingSeen (last seen, scan id, severity change if any)
//	resolved, closed                       FindingReopened "seen again by scan <id>" (+ FindingSeen
//	                                       when the severity changed)
//	false_positive, risk_accepted, duplicate FindingSeen only: they stay as they are
//
// then, for every scope of the report (each of its assets with this format), every finding of the
// scope the report did not list:
//
//	open, reopened, triaged, in_remediation FindingResolved "not seen by scan <id>" (scan_id set)
//	resolved                               FindingClosed (a later scan verified the fix)
//	closed, false_positive, risk_accepted, duplicate  unchanged
//
// A finding of another asset, or of the same asset seen by another scanner, is another scope and
// is never resolved by this report. Lifecycle moves go through the vulns Finding aggregate
// (Reopen, Resolve, Close, SetDueDate), so the domain keeps the rules; the aggregate's state comes
// from the catalogue, which applies the finding streams' events with Finding.Apply.
//
// # Events
//
// Stream scans-import-<scan uuid> (context scans):
//
//	ScanImportStarted    scan_id, format, scanner_name, scanner_version?, findings_total,
//	                     assets_total, report_started_at?, report_finished_at?
//	ScanImportCompleted  the Summary: scan_id, format, findings_total, by_severity{critical, high,
//	                     medium, low, info}, new, unchanged, reopened, resolved, closed, skipped,
//	                     assets_discovered, assets_matched, warnings?
//	ScanImportFailed     scan_id, format?, stage (detect, parse, import), reason
//
// A report that cannot be recognised or parsed appends ScanImportFailed and nothing else. A scan
// id can be imported once (its stream must not exist: AlreadyImportedError).
//
// Assets (context assets, asked through the AssetRegistry port its app's Lookup implements):
// AssetRegistered with scan_id for a report asset no known asset matches,
// AssetIdentifiersObserved for identifiers a matched asset did not
// have. A report asset that carries no usable identifier (a filesystem scan of ".", a SARIF log
// without version-control provenance) cannot be registered: its findings are attached to
// ImportScanReport.AssetID when given, else skipped and named in Summary.Warnings.
//
// Findings (context vulns): see schemas/events/vulns/<Type>.v1.json. FindingOpened carries
// asset_id, scope, identity_key, fingerprint, scan_id, format, scanner, title, severity,
// scanner_severity, cvss[] (version, vector, score recomputed with vulns/cvss for v3.0/v3.1/v4.0,
// scanner_score, source, severity, or error for a vector that does not score), cves[], ghsas[],
// cwes[], rule_id, component{purl, name, version, fixed_version, type, path}, location{host, port,
// protocol, url, method, param, file, line, column, image}, description, remediation,
// references[], evidence, vex_state, vex_justification, seen_at. Long texts are cut with
// TruncationMarker (description and evidence at 64 KiB), long lists are cut.
//
// # Write-side lookups and their limits
//
// The Importer keeps a findings catalogue (finding → scope, aggregate state, stream version;
// scope → findings) in memory, rebuilt from $all by Load/Start and kept current after each of
// its appends and by re-reading $all from where it stopped before deciding; the assets lookup
// it discovers through is caught up to the head at the start of every import likewise. Appends
// carry expected versions, so a finding changed by someone else meanwhile is a version conflict,
// after which the importer catches up and decides again.
//
// Imports of the same scope are serialised by in-process per-scope mutexes (asset discovery by
// the assets lookup's one mutex); different scopes run in parallel. A multi-node deployment must route every import
// of a scope to one node (a known limitation): optimistic concurrency still prevents lost
// updates, but two nodes could register the same new asset twice.
//
// Throughput is bound by the store: each finding is its own stream, so an import makes one append
// (one transaction) per finding. See the package benchmarks.
//
// # Scan orchestration
//
// The Orchestrator (orchestrator.go) runs scan definitions (commands/scans/domain): the
// scan_schedule saga (sagas/flows) asks it for a run at each cron time
// (scans.request_scheduled_run; the run id is a uuidv5 of the definition and the time, so a
// redelivery requests it once), the scan_run saga asks it to execute each attempt
// (scans.execute_run) and to time it out (scans.timeout_run). An attempt runs the nmap runner
// (commands/scans/runner) on targets checked against AllowedTargets, keeps the XML in
// EvidenceDir/<run id>/attempt-<n>.xml and imports it with the import function of the HTTP
// import endpoint, under scan id = run id; its outcome is ScanCompleted or ScanAttemptFailed
// (then a retry after retry_backoff·2^(n-1), or ScanFailed). Reports pushed by external
// scanners take the same path on the request (one attempt, trigger push).
//
// Every decision loads the run from its stream and appends at the loaded version; the
// orchestrator's in-memory index of definitions and runs only serves reads and the recovery of
// attempts a dead process left running.
package app
