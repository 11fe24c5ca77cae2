package openapi

import (
	"slices"

	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/scans"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/schemas/contracts"
)

// Enumerations the query API checks its filters against: the schemas' vocabularies (package
// contracts, generated from schemas/), so they cannot drift from the command side. Asset and scan
// statuses are the read model's own states, declared by no schema.
var (
	Severities      = contracts.SeverityValues()
	FindingStatuses = contracts.FindingStatusValues()
	AssetKinds      = contracts.AssetKindValues()
	Criticalities   = contracts.CriticalityValues()
	Environments    = contracts.EnvironmentValues()
	AssetStatuses   = []string{"active", "retired", "merged"}
	ScanStatuses    = []string{"running", "completed", "failed"}
)

type obj = map[string]any

func str(desc string) obj {
	s := obj{"type": "string"}
	if desc != "" {
		s["description"] = desc
	}
	return s
}

func enum(values []string, desc string) obj {
	s := str(desc)
	s["enum"] = slices.Clone(values)
	return s
}

func dateTime(desc string) obj {
	s := str(desc)
	s["format"] = "date-time"
	return s
}

func integer(desc string) obj {
	s := obj{"type": "integer"}
	if desc != "" {
		s["description"] = desc
	}
	return s
}

func number(desc string) obj {
	s := obj{"type": "number"}
	if desc != "" {
		s["description"] = desc
	}
	return s
}

func boolean(desc string) obj { return obj{"type": "boolean", "description": desc} }

func arrayOf(items obj) obj { return obj{"type": "array", "items": items} }

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func object(required []string, props obj) obj {
	o := obj{"type": "object", "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func orNull(s obj) obj {
	c := obj{}
	for k, v := range s {
		c[k] = v
	}
	c["type"] = []any{s["type"], "null"}
	return c
}

func countsBy(desc string) obj {
	return obj{"type": "object", "additionalProperties": obj{"type": "integer", "minimum": 0}, "description": desc}
}

func sortValues(fields []string) []string {
	var out []string
	for _, f := range fields {
		out = append(out, f, "-"+f)
	}
	return out
}

// scanOutcome describes Scan.outcome: the counts of ScanImportCompleted, v2's only when the event has them.
const scanOutcome = "new, unchanged, reopened, resolved, closed, skipped, assets_discovered, assets_matched; " +
	"for imports recorded since ScanImportCompleted v2 also parsed, stored, suppressed, duplicate_count, ignored, held_back, assets_weak"

// componentSchemas are the shared response schemas. Read-model rows forbid unknown members, so
// a field added to a row without documenting it fails the handler tests.
func componentSchemas() obj {
	asOf := dateTime("Present only on a point-in-time view (as_of): the time the view was folded at.")
	return obj{
		"Problem": obj{
			"type":        "object",
			"description": "RFC 9457 problem details. Extension members may appear.",
			"required":    []string{"type", "title", "status"},
			"properties": obj{
				"type":     str("A URI naming the kind of problem."),
				"title":    str(""),
				"status":   obj{"type": "integer", "minimum": 100, "maximum": 599},
				"detail":   str(""),
				"instance": str("The request path."),
				"field":    str("The input that failed: a JSON pointer into the body (/name), or a parameter or header name."),
				"invalid_params": arrayOf(object([]string{"name", "reason"}, obj{
					"name":   str("A query, path or header parameter."),
					"reason": str(""),
				})),
				"min_position": integer("On 503 position-not-reached: the global position asked for."),
			},
		},
		"AssetLink": object([]string{"relation", "target"}, obj{
			"relation": str("runs_on, depends_on, exposes or contains"),
			"target":   str("The target asset's id."),
		}),
		"RiskComponent": object([]string{"name", "value"}, obj{
			"name":   str(""),
			"value":  number(""),
			"detail": str(""),
		}),
		"Risk": object([]string{"score", "formula", "components"}, obj{
			"score":      obj{"type": "number", "minimum": 0, "maximum": 100},
			"formula":    str("How score follows from the components, in words."),
			"components": orNull(arrayOf(ref("RiskComponent"))),
		}),
		"Asset": object([]string{"id", "kind", "name", "status", "created_at", "updated_at", "version", "open_findings", "risk"}, obj{
			"id":                  str("assets-asset-<uuid>"),
			"kind":                str("host, container_image, repository, web_application or cloud_resource"),
			"name":                str(""),
			"description":         str(""),
			"identifiers":         obj{"type": "object", "additionalProperties": arrayOf(str(""))},
			"criticality":         str(""),
			"environment":         str(""),
			"owner_team":          str(""),
			"data_classification": str(""),
			"tags":                arrayOf(str("")),
			"links":               arrayOf(ref("AssetLink")),
			"status":              enum(AssetStatuses, ""),
			"merged_into":         str("The asset a merged asset went into: its findings are that asset's now."),
			"created_at":          dateTime(""),
			"updated_at":          dateTime(""),
			"version":             integer("The asset stream's version."),
			"open_findings":       orNull(countsBy("Open findings by severity.")),
			"risk":                ref("Risk"),
			"as_of":               asOf,
		}),
		"Finding": object([]string{"id", "asset_id", "title", "severity", "status", "kev", "overdue", "format", "fingerprint", "first_seen", "last_seen", "updated_at", "version"}, obj{
			"id":               str("vulns-finding-<uuid>"),
			"asset_id":         str(""),
			"asset_name":       str(""),
			"title":            str(""),
			"description":      str(""),
			"remediation":      str(""),
			"severity":         enum(Severities, ""),
			"scanner_severity": str(""),
			"status":           enum(FindingStatuses, ""),
			"cves":             arrayOf(str("")),
			"cwes":             arrayOf(str("")),
			"cvss_score":       number("The highest recomputed CVSS base score."),
			"cvss_vector":      str(""),
			"kev":              boolean("Listed in CISA's Known Exploited Vulnerabilities catalogue."),
			"epss":             number(""),
			"epss_percentile":  number(""),
			"owner":            str("The assignee."),
			"due_at":           dateTime(""),
			"overdue":          boolean("Open and due before now (computed when read)."),
			"scanner":          str(""),
			"format":           str(""),
			"rule_id":          str(""),
			"component":        str(""),
			"locations":        arrayOf(ref("FindingLocation")),
			"fingerprint":      str(""),
			"first_scan_id":    str(""),
			"last_scan_id":     str(""),
			"first_seen":       dateTime(""),
			"last_seen":        dateTime(""),
			"resolved_at":      dateTime(""),
			"status_reason":    str(""),
			"updated_at":       dateTime(""),
			"version":          integer("The finding stream's version."),
			"as_of":            asOf,
		}),
		"FindingLocation": object(nil, obj{
			"host":     str(""),
			"port":     integer(""),
			"protocol": str(""),
			"url":      str(""),
			"method":   str(""),
			"param":    str(""),
			"file":     str(""),
			"line":     integer(""),
			"column":   integer(""),
			"image":    str(""),
		}),
		"ScanError": object([]string{"stage", "reason"}, obj{"stage": str(""), "reason": str("")}),
		"AnalyticsAnswer": object([]string{"from", "to", "bucket", "tz", "now", "result"}, obj{
			"from":   dateTime("Start of the period."),
			"to":     dateTime("End of the period (excluded)."),
			"bucket": enum([]string{"day", "week", "month"}, ""),
			"tz":     str("The time zone of the buckets."),
			"now":    dateTime("The instant open, overdue and due-soon answers refer to."),
			"result": obj{"description": "The view's answer (projections/analytics' answer types): a series of buckets, or an object."},
		}),
		"Scan": object([]string{"id", "stream_id", "status", "started_at", "findings_total", "assets_total", "version"}, obj{
			"id":              str("The scan id given to the import."),
			"stream_id":       str(""),
			"format":          str(""),
			"scanner":         str(""),
			"scanner_version": str(""),
			"status":          enum(ScanStatuses, ""),
			"actor":           str(""),
			"started_at":      dateTime(""),
			"finished_at":     dateTime(""),
			"findings_total":  integer(""),
			"assets_total":    integer(""),
			"by_severity":     countsBy(""),
			"outcome":         countsBy(scanOutcome),
			"warnings":        arrayOf(str("")),
			"error":           ref("ScanError"),
			"version":         integer(""),
		}),
		"CVE": object([]string{"id", "stream_id", "kev", "open_findings", "version"}, obj{
			"id":              str("CVE-YYYY-NNNN"),
			"stream_id":       str(""),
			"published":       dateTime(""),
			"last_modified":   dateTime(""),
			"status":          str(""),
			"description":     str(""),
			"cvss_score":      number(""),
			"cvss_vector":     str(""),
			"ratings":         obj{"description": "The CVSS ratings as published (any JSON)."},
			"cwes":            arrayOf(str("")),
			"kev":             boolean(""),
			"kev_date_added":  str(""),
			"kev_due_date":    str(""),
			"kev_ransomware":  str(""),
			"epss":            number(""),
			"epss_percentile": number(""),
			"open_findings":   integer("Open findings that carry this CVE."),
			"version":         integer(""),
		}),
		"AssetList":   listOf("Asset"),
		"FindingList": listOf("Finding"),
		"ScanList":    listOf("Scan"),
		"Envelope": object([]string{"event_id", "stream_id", "stream_type", "version", "global_position", "type", "schema_version", "occurred_at", "recorded_at", "data"}, obj{
			"event_id":        str("UUIDv7"),
			"stream_id":       str(""),
			"stream_type":     str(""),
			"version":         obj{"type": "integer", "minimum": 1},
			"global_position": obj{"type": "integer", "minimum": 1},
			"type":            str(""),
			"schema_version":  obj{"type": "integer", "minimum": 1},
			"occurred_at":     dateTime(""),
			"recorded_at":     dateTime(""),
			"correlation_id":  str(""),
			"causation_id":    str(""),
			"actor":           str(""),
			"tenant":          str(""),
			"trace_parent":    str(""),
			"data":            obj{"description": "The event's data (JSON), per its type's schema."},
			"metadata":        obj{"description": "Metadata (a JSON object)."},
		}),
		"EventPage": object([]string{"items"}, obj{
			"items": arrayOf(ref("Envelope")),
			"next":  str("The URL (path and query) of the next page; absent on the last page."),
		}),
		"ReadPosition": object([]string{"position"}, obj{
			"position": integer("The global position up to which the read models have applied every event."),
		}),
		"CommandResult": object([]string{"stream_id", "version", "global_position"}, obj{
			"stream_id":       str(""),
			"version":         integer("The stream's version after the command; pass it as If-Match next time."),
			"global_position": integer("The position of the command's last event; pass it as min_position to read your write."),
		}),
		"ImportAccepted": object([]string{"scan_id", "status", "bytes"}, obj{
			"scan_id":  str(""),
			"status":   str("The URL to poll: /v1/scans/{id}/import."),
			"bytes":    integer("The report's size."),
			"sha256":   str("The spooled report's SHA-256 (hex), as ScanImportRequested records it."),
			"position": integer("Global position of ScanImportRequested: the import is durable from here."),
		}),
		"ScanFormatList": object([]string{"formats"}, obj{"formats": arrayOf(ref("ScanFormat"))}),
		"ScanFormat": object([]string{"name", "title", "family", "versions", "detection", "fingerprint", "severity"}, obj{
			"name":        str("The value of ?format= and soc import --format."),
			"title":       str("The scanner and report, as users know them."),
			"family":      enum([]string{"sast", "secrets", "dependencies", "containers", "dast", "infrastructure", "cloud", "sbom", "generic"}, ""),
			"versions":    arrayOf(str("")),
			"detection":   str("What auto-detection looks for in the head of a file."),
			"fingerprint": arrayOf(str("The fields that identify a finding across imports, in order.")),
			"severity":    obj{"type": "object", "description": "The scanner's severity values (or the rule deriving them) to ours.", "additionalProperties": enum([]string{"critical", "high", "medium", "low", "info"}, "")},
			"notes":       str(""),
		}),
		"ImportJob": object([]string{"scan_id", "format", "state", "findings_done", "findings_total", "accepted_at"}, obj{
			"scan_id":        str(""),
			"format":         str(""),
			"state":          enum([]string{"queued", "running", "completed", "failed"}, ""),
			"findings_done":  integer(""),
			"findings_total": integer(""),
			"summary":        obj{"description": "The import's outcome (any JSON)."},
			"stage":          str("Of a failure: detect, parse or import."),
			"error":          str(""),
			"accepted_at":    dateTime(""),
			"finished_at":    dateTime(""),
		}),
		"ScanDefinitionCreatedResult": object([]string{"id", "position", "version"}, obj{
			"id":       str("The definition's UUID."),
			"position": integer("Global position of ScanDefinitionCreated."),
			"version":  integer("The definition stream's version."),
			"token":    str("External definitions: the push token (base64url, 32 bytes). Shown once; only its SHA-256 is kept."),
		}),
		"ScanWriteResult": object([]string{"id", "version", "position"}, obj{
			"id":       str(""),
			"version":  integer("The stream's version after the command; pass it as If-Match next time."),
			"position": integer("Global position of the command's last event."),
		}),
		"ScanRunAccepted": object([]string{"run_id", "position"}, obj{
			"run_id":   str(""),
			"position": integer("Global position of ScanRequested."),
		}),
		"ScanTarget": object(nil, obj{
			"asset_id":  str(""),
			"addresses": arrayOf(str("IP, CIDR or hostname.")),
		}),
		"ScanOptions": object(nil, obj{
			"ports":                str(""),
			"scripts":              arrayOf(str("")),
			"service_detection":    boolean(""),
			"timing":               integer(""),
			"host_timeout_seconds": integer(""),
		}),
		"ScanDefinition": object([]string{"id", "name", "scanner", "target", "timeout_seconds", "max_attempts", "retry_backoff_seconds", "format", "deleted", "version"}, obj{
			"id":                    str(""),
			"name":                  str(""),
			"scanner":               enum(contracts.ScannerValues(), ""),
			"target":                ref("ScanTarget"),
			"options":               ref("ScanOptions"),
			"schedule":              str("Cron expression (UTC unless CRON_TZ=)."),
			"timeout_seconds":       integer(""),
			"max_attempts":          integer(""),
			"retry_backoff_seconds": integer(""),
			"format":                str(""),
			"deleted":               boolean(""),
			"version":               integer(""),
			"runs":                  arrayOf(ref("ScanRun")),
		}),
		"ScanDefinitionList": object([]string{"items"}, obj{"items": arrayOf(ref("ScanDefinition"))}),
		"ScanEvidence": object([]string{"path", "sha256", "bytes"}, obj{
			"path":   str("Relative to the node's evidence directory."),
			"sha256": str(""),
			"bytes":  integer(""),
		}),
		"ScanImportSummary": object(nil, obj{
			"findings_total": integer(""), "new": integer(""), "unchanged": integer(""), "reopened": integer(""),
			"resolved": integer(""), "closed": integer(""), "skipped": integer(""), "assets_discovered": integer(""),
			"assets_matched": integer(""), "by_severity": countsBy("Findings by severity."),
		}),
		"ScanRun": object([]string{"id", "definition_id", "trigger", "status", "attempt", "max_attempts", "requested_at"}, obj{
			"id":              str("Also the scan id of its import."),
			"definition_id":   str(""),
			"trigger":         enum(contracts.ScanTriggerValues(), ""),
			"status":          enum([]string{"requested", "running", "completed", "failed", "cancelled"}, "requested again while it waits for a retry (next_attempt_at)."),
			"attempt":         integer("The last attempt started."),
			"max_attempts":    integer(""),
			"scheduled_for":   dateTime(""),
			"requested_by":    str(""),
			"node":            str(""),
			"command":         arrayOf(str("")),
			"last_error":      str(""),
			"next_attempt_at": dateTime(""),
			"evidence":        ref("ScanEvidence"),
			"import":          ref("ScanImportSummary"),
			"cancel_reason":   str(""),
			"requested_at":    dateTime(""),
			"started_at":      dateTime(""),
			"finished_at":     dateTime(""),
		}),
		"ScanPushResult": object([]string{"run_id", "position", "status", "summary"}, obj{
			"run_id":   str(""),
			"position": integer(""),
			"status":   enum([]string{"requested", "running", "completed", "failed", "cancelled"}, ""),
			"summary":  ref("ScanImportSummary"),
			"error":    str(""),
		}),
		"NotificationPage": object([]string{"items", "unread"}, obj{
			"items": arrayOf(object([]string{"id", "kind", "severity", "channels", "created_at", "read"}, obj{
				"id": str(""), "kind": str(""), "severity": str(""), "subject": str(""), "text": str(""),
				"channels": arrayOf(str("")), "created_at": dateTime(""), "read": boolean(""),
			})),
			"next_cursor": str("Pass as cursor for the next page; absent on the last."),
			"unread":      integer("The caller's unread notifications, all pages."),
		}),
		"Health": obj{"type": "object", "required": []string{"status"}, "properties": obj{"status": str("")}},
		"Ready": obj{"type": "object", "required": []string{"status", "checks"}, "properties": obj{
			"status": enum([]string{"ready", "not ready"}, ""),
			"checks": obj{"type": "object", "description": "Each readiness check's detail, by name."},
		}},
	}
}

func listOf(item string) obj {
	return object([]string{"items"}, obj{
		"items":       arrayOf(ref(item)),
		"next_cursor": str("Pass as cursor for the next page; absent on the last page."),
		"next":        str("The URL (path and query) of the next page; absent on the last page."),
	})
}

// sortParams are the sort fields of each list, for the documentation.
var sortParams = map[string][]string{
	"assets":   assets.Sorts,
	"findings": vulns.FindingSorts,
	"scans":    scans.Sorts,
}
