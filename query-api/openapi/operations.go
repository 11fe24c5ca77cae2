package openapi

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/schemas/problem"
)

type param struct {
	name, in string
	required bool
	schema   obj
	desc     string
}

type response struct {
	desc        string
	contentType string // "" for no body
	schema      obj
	headers     []string // names from headerDocs
	alsoAs      []string // further content types of the same schema (a document in several formats)
}

type operation struct {
	method, path string
	id, summary  string
	desc         string
	tag          string
	params       []param
	body         string // command schema (application/json request body)
	rawBody      obj    // another request body
	responses    map[int]response
}

// The content types the platform answers with.
const (
	JSON    = "application/json"
	Problem = problem.ContentType
	JWKSet  = "application/jwk-set+json" // RFC 7517 §8.5: the JWKS endpoint's
)

var headerDocs = map[string]obj{
	"ETag":                 {"description": "Strong entity tag: a hash of the body; send it back in If-None-Match.", "schema": str("")},
	"Cache-Control":        {"description": "no-cache: revalidate before reusing a stored copy.", "schema": str("")},
	"Retry-After":          {"description": "Seconds to wait before retrying.", "schema": obj{"type": "integer", "minimum": 0}},
	"Location":             {"description": "The created or polled resource.", "schema": str("")},
	"WWW-Authenticate":     {"description": "The authentication scheme expected (Bearer).", "schema": str("")},
	"Idempotent-Replayed":  {"description": "true when the Idempotency-Key was already used and nothing was appended.", "schema": str("")},
	"X-As-Of":              {"description": "On a point-in-time view: the as_of time it shows.", "schema": dateTime("")},
	"CommandETag":          {"description": "The stream version, quoted (\"3\"): the next If-Match.", "schema": str("")},
	"Preference-Applied":   {"description": "", "schema": str("")},
	"Sec-WebSocket-Accept": {"description": "The WebSocket handshake answer.", "schema": str("")},
	"Accept-Encoding":      {"description": "The content codings the body may be sent in (gzip).", "schema": str("")},
	"Soc-Read-Position": {"description": "The global position up to which the read models had applied every event when the answer was read (read before it, so the answer is never older).",
		"schema": obj{"type": "integer", "minimum": 0}},
}

func problemResp(desc string, headers ...string) response {
	return response{desc: desc, contentType: Problem, schema: ref("Problem"), headers: headers}
}

var (
	resp400 = problemResp("A parameter, header or body field is malformed; invalid_params / field name it.")
	resp404 = problemResp("No such resource.")
	resp409 = problemResp("Version conflict (If-Match, or a concurrent write) or a state that forbids the command.")
	resp413 = problemResp("The body is over the size limit.")
	resp422 = problemResp("Well-formed, but the domain's rules refuse it.")
	resp500 = problemResp("The server failed; see its logs.")
	resp501 = problemResp("This node does not serve the feature (no audit index, no point-in-time fold).")
	resp503 = problemResp("min_position was not reached within the wait (Retry-After and min_position say when and what), or no read model runs here.", "Retry-After")
	resp304 = response{desc: "Not modified: If-None-Match matched the current ETag.", headers: []string{"ETag", "Cache-Control"}}
)

func okJSON(schema string, headers ...string) response {
	return response{desc: "OK", contentType: JSON, schema: ref(schema), headers: append([]string{"ETag", "Cache-Control"}, headers...)}
}

func qp(name string, schema obj, desc string) param {
	return param{name: name, in: "query", schema: schema, desc: desc}
}

func hp(name string, schema obj, desc string) param {
	return param{name: name, in: "header", schema: schema, desc: desc}
}

func pp(name string, schema obj, desc string) param {
	return param{name: name, in: "path", required: true, schema: schema, desc: desc}
}

func bounded(s obj, max int) obj {
	s["maxLength"] = max
	return s
}

func intRange(lo, hi int64, def int64) obj {
	s := obj{"type": "integer", "minimum": lo, "maximum": hi}
	if def > 0 {
		s["default"] = def
	}
	return s
}

func listParam(values []string) obj {
	return obj{"type": "array", "maxItems": 32, "items": enum(values, "")}
}

var (
	readYourWrites = []param{
		qp("min_position", intRange(0, 1<<62, 0), "Wait until the read models have applied this global position (a command's global_position)."),
		qp("wait", intRange(0, 3600, 0), "Seconds to wait for min_position; capped at the server's maximum (5 s by default)."),
		hp("X-Min-Position", intRange(0, 1<<62, 0), "Header form of min_position."),
		hp("Prefer", str(""), "wait=<seconds> (RFC 7240), as the wait parameter."),
	}
	ifNoneMatch = hp("If-None-Match", str(""), "An ETag from an earlier answer: 304 when unchanged.")
	asOfParam   = qp("as_of", dateTime(""), "Point-in-time view: the resource as it was at this RFC 3339 time, folded from its event stream (not in the future).")
	commandHdrs = []param{
		hp("Idempotency-Key", bounded(str(""), 200), "A retry with the same key appends nothing and answers the first result; the same key with another command or body on the same aggregate is a 422 (field idempotency_key)."),
		hp("If-Match", str(""), `The stream version the client expects ("3"), or *; another version is a 409 naming expected_version and current_version. Without it the server retries a command that lost a race.`),
		hp("X-Correlation-ID", bounded(str(""), 256), "Carried into the events' correlation_id."),
		hp("traceparent", str(""), "W3C trace context."),
	}
)

func paging(resource string) []param {
	return []param{
		qp("sort", enum(sortValues(sortParams[resource]), ""), "Sort field; - for descending. Default: -"+sortParams[resource][0]+"."),
		qp("limit", intRange(1, readkit.MaxLimit, 50), "Page size."),
		qp("cursor", bounded(str(""), 2048), "next_cursor of the previous page; only valid with the same filters and sort."),
	}
}

func text(desc string) obj { return bounded(str(desc), 256) }

func concat(groups ...[]param) []param {
	var out []param
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

var operations = sync.OnceValue(func() []operation {
	var ops []operation
	add := func(o operation) { ops = append(ops, o) }

	// Query endpoints.
	readOK := func(schema string, extra ...int) map[int]response {
		m := map[int]response{200: okJSON(schema, "Soc-Read-Position"), 304: resp304, 400: resp400, 500: resp500, 503: resp503}
		for _, s := range extra {
			switch s {
			case 404:
				m[404] = resp404
			case 501:
				m[501] = resp501
			}
		}
		return m
	}
	timeP := func(name, desc string) param { return qp(name, dateTime(""), desc) }
	const teamScoped = "Without teams:all the caller sees only what its teams own (an asset by its owner team, a finding by its asset's): " +
		"the items, the filters and the cursors cover those rows alone; a single one outside them is 404, as a missing one."
	add(operation{method: "GET", path: "/v1/assets", id: "listAssets", tag: "assets", summary: "List assets",
		desc: teamScoped,
		params: concat([]param{
			qp("kind", listParam(AssetKinds), "Any of these kinds (repeat the parameter or separate with commas)."),
			qp("criticality", listParam(Criticalities), "Any of these criticalities."),
			qp("environment", enum(Environments, ""), ""),
			qp("owner_team", text(""), ""),
			qp("status", enum(AssetStatuses, ""), ""),
			qp("tag", text(""), "Assets carrying this tag."),
			qp("q", bounded(str(""), 200), "Case-insensitive substring of the name."),
			qp("min_risk", obj{"type": "number", "minimum": 0, "maximum": 100}, "Risk score at least this."),
			qp("has_open", boolean(""), "Has at least one open finding."),
		}, paging("assets"), readYourWrites, []param{ifNoneMatch}),
		responses: readOK("AssetList")})
	add(operation{method: "GET", path: "/v1/assets/{id}", id: "getAsset", tag: "assets", summary: "Get an asset (or as it was at as_of)",
		params:    concat([]param{pp("id", str("assets-asset-<uuid>"), ""), asOfParam}, readYourWrites, []param{ifNoneMatch}),
		responses: withHeader(readOK("Asset", 404, 501), 200, "X-As-Of")})
	add(operation{method: "GET", path: "/v1/findings", id: "listFindings", tag: "findings", summary: "List findings",
		desc: teamScoped,
		params: concat([]param{
			qp("severity", listParam(Severities), "Any of these severities (repeat or comma-separate)."),
			qp("status", listParam(FindingStatuses), "Any of these statuses."),
			qp("open", boolean(""), "Open (open, reopened, triaged, in_remediation) or not."),
			qp("asset_id", str("assets-asset-<uuid>"), ""),
			qp("cve", str("CVE-YYYY-NNNN"), ""),
			qp("cwe", str("CWE-N"), ""),
			qp("kev", boolean(""), "Carries a CVE in CISA's KEV catalogue."),
			qp("epss_min", obj{"type": "number", "minimum": 0, "maximum": 1}, "EPSS probability at least this."),
			qp("owner", text(""), "Assignee."),
			qp("overdue", boolean(""), "Open and past due."),
			timeP("due_before", ""), timeP("due_after", ""),
			qp("scanner", text(""), ""),
			qp("format", str(""), "Report format the finding came from."),
			qp("scan_id", bounded(str(""), 128), "First or last seen by this scan."),
			timeP("first_seen_from", "[from, to)"), timeP("first_seen_to", ""),
			timeP("last_seen_from", "[from, to)"), timeP("last_seen_to", ""),
			qp("q", bounded(str(""), 200), "Case-insensitive substring of the title."),
		}, paging("findings"), readYourWrites, []param{ifNoneMatch}),
		responses: readOK("FindingList")})
	add(operation{method: "GET", path: "/v1/findings/{id}", id: "getFinding", tag: "findings", summary: "Get a finding (or as it was at as_of)",
		params:    concat([]param{pp("id", str("vulns-finding-<uuid>"), ""), asOfParam}, readYourWrites, []param{ifNoneMatch}),
		responses: withHeader(readOK("Finding", 404, 501), 200, "X-As-Of")})
	add(operation{method: "GET", path: "/v1/scans", id: "listScans", tag: "scans", summary: "List scans",
		params: concat([]param{
			qp("format", str(""), ""),
			qp("status", enum(ScanStatuses, ""), ""),
			qp("actor", text(""), ""),
			timeP("from", "Started at or after."), timeP("to", "Started before."),
		}, paging("scans"), readYourWrites, []param{ifNoneMatch}),
		responses: readOK("ScanList")})
	add(operation{method: "GET", path: "/v1/scans/{id}", id: "getScan", tag: "scans", summary: "Get a scan",
		params:    concat([]param{pp("id", bounded(str(""), 128), "The scan id.")}, readYourWrites, []param{ifNoneMatch}),
		responses: readOK("Scan", 404)})
	// Analytics (projections/analytics): one operation per view, with the same parameters.
	analyticsParams := concat([]param{
		qp("from", str(""), "Start of the period: an RFC 3339 date-time, or YYYY-MM-DD (midnight in tz). Default: 90 days before to."),
		qp("to", str(""), "End of the period (excluded), as from. Default: now."),
		qp("bucket", enum([]string{"day", "week", "month"}, ""), "Bucket length (weeks start on Monday). Default: month."),
		qp("tz", bounded(str(""), 64), "IANA time zone the buckets and dates are cut in. Default: UTC."),
		qp("tags", obj{"type": "array", "maxItems": 32, "items": text("")}, "Assets carrying every one of these tags."),
		qp("team", obj{"type": "array", "maxItems": 32, "items": text("")}, "Assets owned by any of these teams."),
		qp("environment", listParam(Environments), "Assets in any of these environments."),
		qp("asset_kind", listParam(AssetKinds), "Assets of any of these kinds."),
		qp("scanner", obj{"type": "array", "maxItems": 32, "items": str("")}, "Findings from any of these report formats."),
		qp("severity", listParam(Severities), "Findings of any of these severities."),
		qp("limit", intRange(1, 1000, 10), "Length of the top-N lists."),
		qp("due_within", intRange(1, 366, 7), "SLA forecast: due within this many days."),
		qp("stale_after", intRange(1, 3660, 90), "Coverage: not scanned within this many days."),
	}, readYourWrites, []param{ifNoneMatch})
	const analyticsScoped = "Without teams:all every number covers the assets the caller's teams own. " +
		"min_position waits for, and Soc-Read-Position answers, the analytics model's own position."
	for _, v := range []struct{ path, id, summary string }{
		{"open-findings", "analyticsOpenFindings", "Open findings by severity at the end of each bucket"},
		{"flow", "analyticsFlow", "Findings discovered, reopened, resolved and removed per bucket"},
		{"mttr", "analyticsMTTR", "Time to remediate and to triage (mean, p50, p90)"},
		{"sla", "analyticsSLA", "SLA compliance per bucket, breaches, overdue and due soon"},
		{"risk", "analyticsRisk", "Risk over time, riskiest assets, teams and environments"},
		{"top-assets", "analyticsTopAssets", "Riskiest assets now"},
		{"exploitability", "analyticsExploitability", "Open KEV findings, KEV and overdue, EPSS distribution"},
		{"coverage", "analyticsCoverage", "Assets not scanned recently per scanner, scans per bucket"},
	} {
		add(operation{method: "GET", path: "/v1/analytics/" + v.path, id: v.id, tag: "analytics", summary: v.summary,
			desc: analyticsScoped, params: analyticsParams, responses: readOK("AnalyticsAnswer", 501)})
	}
	add(operation{method: "GET", path: "/v1/cves/{id}", id: "getCVE", tag: "vulns", summary: "Get a CVE from the catalogue",
		params:    concat([]param{pp("id", str("CVE-YYYY-NNNN"), "")}, readYourWrites, []param{ifNoneMatch}),
		responses: readOK("CVE", 404)})
	add(operation{method: "GET", path: "/v1/streams/{stream_id}/events", id: "readStream", tag: "audit", summary: "Read a stream's events",
		desc: "Pages through one stream from the event store (always current: no min_position needed). " +
			"Without audit:read or teams:all only the streams of assets the caller's teams own and of their findings are readable; any other is 404, as a stream that does not exist.",
		params: []param{
			pp("stream_id", str("<context>-<aggregate>-<uuid>"), ""),
			qp("from", intRange(1, 1<<62, 0), "First version forwards (default 1), or highest backwards (default the last)."),
			qp("direction", enum([]string{"forwards", "backwards"}, ""), "Default forwards."),
			qp("limit", intRange(1, 1000, 100), ""),
			asOfParam,
			ifNoneMatch,
		},
		responses: map[int]response{200: okJSON("EventPage", "Soc-Read-Position"), 304: resp304, 400: resp400, 404: resp404,
			410: problemResp("The stream is tombstoned."), 500: resp500, 503: problemResp("The store is unavailable.")}})
	add(operation{method: "GET", path: "/v1/events", id: "auditEvents", tag: "audit", summary: "Search the audit trail",
		desc: "Events of the whole store in global-position order, narrowed by every parameter given. " +
			"Without audit:read or teams:all only the events of streams of assets the caller's teams own and of their findings are listed; " +
			"such a page may then hold fewer than limit events and still link the next one (follow next until it is absent).",
		params: []param{
			qp("type", obj{"type": "array", "maxItems": 32, "items": str("")}, "Any of these event types (repeat or comma-separate)."),
			qp("actor", obj{"type": "string", "minLength": 1, "maxLength": 256, "pattern": `^[^\s]+$`},
				"Events recorded by this actor, exactly: user:<id>, token:<id>, system:<name> or anonymous (older events and operator commands may hold a plain name)."),
			qp("correlation_id", text(""), ""),
			qp("stream_id", str(""), ""),
			timeP("from", "Recorded at or after."), timeP("to", "Recorded before."),
			qp("after", intRange(0, 1<<62, 0), "Positions above this (the next page's bound going forwards)."),
			qp("before", intRange(1, 1<<62, 0), "Positions below this (the next page's bound going backwards)."),
			qp("direction", enum([]string{"forwards", "backwards"}, ""), "Default forwards."),
			qp("limit", intRange(1, 1000, 100), ""),
			ifNoneMatch,
		},
		responses: map[int]response{200: okJSON("EventPage", "Soc-Read-Position"), 304: resp304, 400: resp400, 500: resp500, 501: resp501,
			503: problemResp("The store is unavailable.")}})

	// Command endpoints.
	cmdResp := func(created bool) map[int]response {
		m := map[int]response{
			200: {desc: "Applied (or an idempotent replay, or nothing to change).", contentType: JSON, schema: ref("CommandResult"), headers: []string{"CommandETag", "Idempotent-Replayed"}},
			400: resp400, 404: resp404, 409: resp409, 413: resp413, 422: resp422, 500: resp500,
		}
		if created {
			m[201] = response{desc: "Created.", contentType: JSON, schema: ref("CommandResult"), headers: []string{"Location", "CommandETag", "Idempotent-Replayed"}}
			delete(m, 404)
		}
		return m
	}
	idp := func(what string) param { return pp("id", str(what), "") }
	add(operation{method: "POST", path: "/v1/assets", id: "registerAsset", tag: "assets", summary: "Register an asset",
		params: commandHdrs, body: "RegisterAsset", responses: cmdResp(true)})
	assetCmds := []struct{ m, p, id, schema, sum string }{
		{"PATCH", "/v1/assets/{id}", "updateAsset", "UpdateAsset", "Update an asset"},
		{"POST", "/v1/assets/{id}/update", "updateAssetPost", "UpdateAsset", "Update an asset (POST form)"},
		{"POST", "/v1/assets/{id}/classify", "classifyAsset", "ClassifyAsset", "Classify an asset"},
		{"POST", "/v1/assets/{id}/link", "linkAsset", "LinkAsset", "Link an asset to another"},
		{"POST", "/v1/assets/{id}/unlink", "unlinkAsset", "UnlinkAsset", "Remove a link"},
		{"POST", "/v1/assets/{id}/retire", "retireAsset", "RetireAsset", "Retire an asset"},
		{"POST", "/v1/assets/{id}/reactivate", "reactivateAsset", "ReactivateAsset", "Reactivate a retired asset"},
		{"POST", "/v1/assets/{id}/merge", "mergeAssets", "MergeAssets", "Merge an asset into another"},
	}
	for _, c := range assetCmds {
		add(operation{method: c.m, path: c.p, id: c.id, tag: "assets", summary: c.sum,
			params: concat([]param{idp("assets-asset-<uuid>")}, commandHdrs), body: c.schema, responses: cmdResp(false)})
	}
	findingCmds := []struct{ verb, id, schema, sum string }{
		{"triage", "triageFinding", "TriageFinding", "Triage a finding"},
		{"start-remediation", "startRemediation", "StartRemediation", "Start remediating a finding"},
		{"resolve", "resolveFinding", "ResolveFinding", "Resolve a finding"},
		{"reopen", "reopenFinding", "ReopenFinding", "Reopen a finding"},
		{"false-positive", "markFalsePositive", "MarkFalsePositive", "Mark a finding a false positive"},
		{"duplicate", "markDuplicate", "MarkDuplicate", "Mark a finding a duplicate"},
		{"accept-risk", "acceptRisk", "AcceptRisk", "Accept a finding's risk"},
		{"assign", "assignFinding", "AssignFinding", "Assign a finding"},
		{"comment", "commentFinding", "CommentFinding", "Comment on a finding"},
		{"due-date", "setDueDate", "SetDueDate", "Set a finding's due date"},
	}
	for _, c := range findingCmds {
		add(operation{method: "POST", path: "/v1/findings/{id}/" + c.verb, id: c.id, tag: "findings", summary: c.sum,
			params: concat([]param{idp("vulns-finding-<uuid>")}, commandHdrs), body: c.schema, responses: cmdResp(false)})
	}
	add(operation{method: "POST", path: "/v1/scans/imports", id: "importScan", tag: "scans", summary: "Import a scanner report",
		desc: "The report is the body, or the first file part of a multipart form; the import runs in the background. " +
			"It may come gzip-compressed, as Content-Encoding: gzip or as a .gz file sent as is (its magic bytes tell); it is decompressed before it is spooled, " +
			"so bytes and sha256 in the answer are the report's, and the decompressed report is bounded as the body is (413). A ZIP archive is a 400.",
		params: []param{qp("format", obj{"type": "string", "pattern": "^[a-z][a-z0-9-]{1,31}$", "default": "auto"}, "The parser (GET /v1/scans/formats lists them), or auto to detect it; mapped reads a custom mapping (JSON) at the head of the body, then the report."),
			qp("asset", obj{"type": "string", "maxLength": 256}, "A known live asset, by id or exact name, for the findings of report assets with no usable identifier; unknown: 400."),
			qp("close_missing", obj{"type": "boolean", "default": false}, "Resolve the scope's findings the report lacks even beyond the configured share, or when it lists none."),
			hp("Content-Encoding", str(""), "gzip (or x-gzip) when the body is gzip-compressed; identity or none when it is not. Any other coding is a 415.")},
		rawBody: obj{"required": true, "content": obj{
			"application/octet-stream": obj{"schema": obj{"type": "string", "contentMediaType": "application/octet-stream"}},
			"application/json":         obj{"schema": obj{}},
			"application/xml":          obj{"schema": obj{"type": "string"}},
			"multipart/form-data":      obj{"schema": obj{"type": "object", "properties": obj{"file": obj{"type": "string", "contentMediaType": "application/octet-stream"}}}},
		}},
		responses: map[int]response{
			202: {desc: "Accepted: poll the Location.", contentType: JSON, schema: ref("ImportAccepted"), headers: []string{"Location"}},
			400: resp400, 413: resp413, 500: resp500,
			429: problemResp("The client has its limit of uploads in progress.", "Retry-After"),
			415: problemResp("Content-Encoding names a coding other than gzip (field Content-Encoding); nothing was read.", "Accept-Encoding"),
			503: problemResp("The import queue is full, or the node is shutting down; nothing was read.", "Retry-After"),
		}})
	add(operation{method: "GET", path: "/v1/scans/{id}/import", id: "getImport", tag: "scans", summary: "Poll an import",
		params: []param{pp("id", str("The scan id (a UUID)."), "")},
		responses: map[int]response{200: {desc: "OK", contentType: JSON, schema: ref("ImportJob")}, 400: resp400,
			404: problemResp("No import with this scan id."), 500: resp500}})

	add(operation{method: "GET", path: "/v1/scans/formats", id: "listScanFormats", tag: "scans", summary: "List the report formats",
		desc:      "Every format an import may name (?format=), in the order auto-detection tries them, then the custom mapping (never detected): accepted versions, detection rule, fingerprint fields and severity mapping, as the node's parsers document themselves.",
		responses: map[int]response{200: okJSON("ScanFormatList"), 500: resp500}})

	// Scan orchestration (commands/scans/ports): definitions, runs and pushed reports.
	scanDefID := pp("id", str("The definition's UUID."), "")
	scanRunID := pp("id", str("The run's UUID (also the scan id of its import: /v1/scans/{id})."), "")
	scanWrite := func(status int, desc, schema string, headers ...string) map[int]response {
		return map[int]response{status: {desc: desc, contentType: JSON, schema: ref(schema), headers: headers},
			400: resp400, 404: resp404, 409: resp409, 413: resp413, 422: resp422, 500: resp500}
	}
	add(operation{method: "POST", path: "/v1/scan-definitions", id: "createScanDefinition", tag: "scans", summary: "Create a scan definition",
		desc:   "nmap definitions are run by the platform (on their schedule, or on request); external definitions receive reports pushed with the token this answer carries once.",
		params: commandHdrs, body: "CreateScanDefinition",
		responses: func() map[int]response {
			m := scanWrite(201, "Created.", "ScanDefinitionCreatedResult", "Location")
			m[200] = response{desc: "An idempotent replay (no token: it was returned by the first answer).", contentType: JSON, schema: ref("ScanDefinitionCreatedResult"), headers: []string{"Location", "Idempotent-Replayed"}}
			delete(m, 404)
			return m
		}()})
	add(operation{method: "GET", path: "/v1/scan-definitions", id: "listScanDefinitions", tag: "scans", summary: "List scan definitions",
		desc:      "Served from the scan orchestrator's index (never the push token or its hash).",
		responses: map[int]response{200: {desc: "OK", contentType: JSON, schema: ref("ScanDefinitionList")}, 500: resp500}})
	add(operation{method: "GET", path: "/v1/scan-definitions/{id}", id: "getScanDefinition", tag: "scans", summary: "Get a scan definition and its recent runs",
		params:    []param{scanDefID},
		responses: map[int]response{200: {desc: "OK", contentType: JSON, schema: ref("ScanDefinition")}, 404: resp404, 500: resp500}})
	add(operation{method: "PUT", path: "/v1/scan-definitions/{id}", id: "updateScanDefinition", tag: "scans", summary: "Replace a scan definition",
		params: concat([]param{scanDefID}, commandHdrs), body: "UpdateScanDefinition", responses: scanWrite(200, "Updated.", "ScanWriteResult")})
	add(operation{method: "DELETE", path: "/v1/scan-definitions/{id}", id: "deleteScanDefinition", tag: "scans", summary: "Delete a scan definition",
		params: concat([]param{scanDefID}, commandHdrs), body: "DeleteScanDefinition", responses: scanWrite(200, "Deleted.", "ScanWriteResult")})
	add(operation{method: "POST", path: "/v1/scan-definitions/{id}/runs", id: "requestScanRun", tag: "scans", summary: "Run an nmap definition now",
		desc:   "The run is requested; the scan_run saga executes it. Poll the Location.",
		params: concat([]param{scanDefID}, commandHdrs), body: "RequestScanRun", responses: scanWrite(202, "Requested.", "ScanRunAccepted", "Location")})
	add(operation{method: "POST", path: "/v1/scan-definitions/{id}/reports", id: "pushScanReport", tag: "scans", summary: "Push a report of an external scanner",
		desc: "Authorization: Bearer <the definition's token>. The report is kept as evidence and imported at once under a new run (trigger push); " +
			"an Idempotency-Key makes a retried push import once.",
		params: []param{scanDefID,
			qp("format", obj{"type": "string", "pattern": "^[a-z][a-z0-9]{1,31}$"}, "The report's format; must be the definition's (the default)."),
			hp("Authorization", str(""), "Bearer <token>."),
			hp("Idempotency-Key", bounded(str(""), 200), "A retried push with the same key imports nothing again and answers the same run.")},
		rawBody: obj{"required": true, "content": obj{
			"application/json":         obj{"schema": obj{}},
			"application/xml":          obj{"schema": obj{"type": "string"}},
			"application/octet-stream": obj{"schema": obj{"type": "string", "contentMediaType": "application/octet-stream"}},
		}},
		responses: map[int]response{
			200: {desc: "Imported.", contentType: JSON, schema: ref("ScanPushResult"), headers: []string{"Location"}},
			400: resp400, 401: problemResp("Missing or wrong token."), 404: resp404, 409: resp409, 413: resp413,
			422: problemResp("The report could not be imported; the run failed (detail names it)."), 500: resp500,
		}})
	add(operation{method: "GET", path: "/v1/scan-runs/{id}", id: "getScanRun", tag: "scans", summary: "Get a scan run",
		params:    []param{scanRunID},
		responses: map[int]response{200: {desc: "OK", contentType: JSON, schema: ref("ScanRun")}, 404: resp404, 500: resp500}})
	add(operation{method: "POST", path: "/v1/scan-runs/{id}/cancel", id: "cancelScanRun", tag: "scans", summary: "Cancel a scan run",
		desc:   "Kills its scanner process if it runs on this node; a finished run is a 409.",
		params: concat([]param{scanRunID}, commandHdrs), body: "CancelScanRun", responses: scanWrite(200, "Cancelled.", "ScanWriteResult")})

	// Identity (commands/identity/ports): sign-in, the caller's account, users, teams, roles,
	// invitations, sessions and API tokens. Answers holding a secret are shown once.
	secret := func(status int, desc string, extra map[int]response) map[int]response {
		m := map[int]response{status: {desc: desc, contentType: JSON, schema: ref("Any")}, 400: resp400, 413: resp413, 500: resp500}
		for c, r := range extra {
			m[c] = r
		}
		return m
	}
	unauthenticated := problemResp("No credential, or an invalid, expired or revoked one.")
	notAdmin := problemResp("The caller lacks the permission (users:admin).")
	login := secret(200, "Access and refresh tokens (the refresh token is shown here only).", map[int]response{401: unauthenticated,
		429: problemResp("Too many failed logins for this account or address.", "Retry-After")})
	add(operation{method: "POST", path: "/v1/auth/login", id: "login", tag: "identity", summary: "Sign in with a password", body: "Login", responses: login})
	add(operation{method: "POST", path: "/v1/auth/refresh", id: "refreshSession", tag: "identity", summary: "Trade a refresh token for new tokens",
		desc: "The refresh token is rotated; presenting a rotated one again revokes the whole session (401).", body: "RefreshSession",
		responses: secret(200, "New access and refresh tokens.", map[int]response{401: unauthenticated})})
	add(operation{method: "POST", path: "/v1/auth/logout", id: "logout", tag: "identity", summary: "End the session of a refresh token", body: "Logout",
		responses: map[int]response{204: {desc: "Signed out."}, 400: resp400, 401: unauthenticated, 500: resp500}})
	add(operation{method: "POST", path: "/v1/invitations/accept", id: "acceptInvitation", tag: "identity", summary: "Register with an invitation",
		body: "AcceptInvitation", responses: secret(201, "Registered and signed in.", map[int]response{401: unauthenticated})})
	add(operation{method: "POST", path: "/v1/invitations", id: "issueInvitation", tag: "identity", summary: "Invite someone (the secret is shown once)",
		params: commandHdrs, body: "IssueInvitation", responses: secret(201, "Issued.", map[int]response{401: unauthenticated, 403: notAdmin, 409: resp409, 422: resp422})})
	add(operation{method: "POST", path: "/v1/tokens", id: "issueApiToken", tag: "identity", summary: "Issue an API token (shown once)",
		params: commandHdrs, body: "IssueApiToken", responses: secret(201, "Issued: {id, token, expires_at}.", map[int]response{401: unauthenticated, 403: notAdmin, 422: resp422})})
	add(operation{method: "POST", path: "/v1/users", id: "createUser", tag: "identity", summary: "Create a user",
		params: commandHdrs, body: "CreateUser", responses: secret(201, "The user (and one_time_password, once, when none was given).", map[int]response{401: unauthenticated, 403: notAdmin, 409: resp409, 422: resp422})})
	add(operation{method: "POST", path: "/v1/teams", id: "createTeam", tag: "identity", summary: "Create a team",
		params: commandHdrs, body: "CreateTeam", responses: secret(201, "The team.", map[int]response{401: unauthenticated, 403: notAdmin, 422: resp422})})
	identityCmds := []struct{ m, p, id, schema, sum string }{
		{"PUT", "/v1/me/preferences", "setPreferences", "SetNotificationPreferences", "Set one's notification preferences"},
		{"POST", "/v1/users/{id}/disable", "disableUser", "DisableUser", "Disable a user (their sessions end)"},
		{"POST", "/v1/users/{id}/enable", "enableUser", "EnableUser", "Enable a user"},
		{"PUT", "/v1/users/{id}/roles", "setUserRoles", "SetUserRoles", "Set a user's roles"},
		{"POST", "/v1/teams/{id}/members", "addTeamMember", "AddTeamMember", "Add a team member"},
		{"POST", "/v1/roles", "defineRole", "DefineRole", "Define a custom role"},
	}
	for _, c := range identityCmds {
		params := commandHdrs
		if strings.Contains(c.p, "{id}") {
			params = concat([]param{pp("id", str(""), "")}, commandHdrs)
		}
		responses := cmdResp(c.id == "defineRole") // a role's first definition creates its stream (201)
		responses[401], responses[403] = unauthenticated, notAdmin
		add(operation{method: c.m, path: c.p, id: c.id, tag: "identity", summary: c.sum, params: params, body: c.schema, responses: responses})
	}
	identityReads := []struct{ m, p, id, sum string }{
		{"GET", "/v1/me", "getMe", "Who the caller is"},
		{"GET", "/v1/me/sessions", "listMySessions", "The caller's sessions"},
		{"DELETE", "/v1/me/sessions/{id}", "revokeMySession", "End one of one's sessions"},
		{"GET", "/v1/users", "listUsers", "List users"},
		{"GET", "/v1/users/{id}", "getUser", "Get a user"},
		{"GET", "/v1/users/{id}/sessions", "listUserSessions", "A user's sessions"},
		{"DELETE", "/v1/sessions/{id}", "revokeSession", "End a user's session"},
		{"GET", "/v1/teams", "listTeams", "List teams"},
		{"DELETE", "/v1/teams/{id}/members/{user_id}", "removeTeamMember", "Remove a team member"},
		{"GET", "/v1/roles", "listRoles", "List built-in and custom roles"},
		{"GET", "/v1/tokens", "listApiTokens", "List API tokens (never their secrets)"},
		{"DELETE", "/v1/tokens/{id}", "revokeApiToken", "Revoke an API token"},
	}
	for _, c := range identityReads {
		var params []param
		for _, name := range []string{"id", "user_id"} {
			if strings.Contains(c.p, "{"+name+"}") {
				params = append(params, pp(name, str(""), ""))
			}
		}
		status, ok := 200, response{desc: "OK", contentType: JSON, schema: ref("Any")}
		if c.m == "DELETE" {
			status, ok = 204, response{desc: "Removed (ETag: the stream's version)."}
		}
		add(operation{method: c.m, path: c.p, id: c.id, tag: "identity", summary: c.sum, params: params,
			responses: map[int]response{status: ok, 401: unauthenticated, 403: notAdmin, 404: resp404, 409: resp409, 422: resp422, 500: resp500}})
	}
	add(operation{method: "GET", path: "/.well-known/jwks.json", id: "jwks", tag: "identity", summary: "The access tokens' public keys (JWKS)",
		responses: map[int]response{200: {desc: "A JSON Web Key Set.", contentType: JWKSet, schema: ref("Any")}}})
	// SSO (commands/identity/sso): the browser is sent to the provider and back; a node without
	// --oidc-issuer answers 404.
	ssoOff := problemResp("Single sign-on is not configured (--oidc-issuer).")
	add(operation{method: "GET", path: "/v1/auth/oidc/login", id: "oidcLogin", tag: "identity", summary: "Sign in through the OpenID Connect provider",
		desc:      "Redirects to the provider (authorization code with PKCE); the provider sends the browser back to /v1/auth/oidc/callback.",
		responses: map[int]response{302: {desc: "To the provider's authorization endpoint."}, 404: ssoOff, 429: problemResp("Too many sign-ins in progress.", "Retry-After"), 500: resp500}})
	add(operation{method: "GET", path: "/v1/auth/oidc/callback", id: "oidcCallback", tag: "identity", summary: "The provider's redirect back: signs the user in",
		responses: secret(200, "Access and refresh tokens, as a login answers.", map[int]response{401: unauthenticated, 404: ssoOff})})

	// Operations of the node.
	add(operation{method: "GET", path: "/healthz", id: "healthz", tag: "operations", summary: "Liveness",
		responses: map[int]response{200: {desc: "Alive.", contentType: JSON, schema: ref("Health")}}})
	add(operation{method: "GET", path: "/readyz", id: "readyz", tag: "operations", summary: "Readiness",
		responses: map[int]response{
			200: {desc: "Ready.", contentType: JSON, schema: ref("Ready")},
			503: {desc: "Not ready (starting, shutting down or a check failing).", contentType: JSON, schema: ref("Ready")},
		}})
	add(operation{method: "GET", path: "/metrics", id: "metrics", tag: "operations", summary: "Prometheus metrics",
		responses: map[int]response{200: {desc: "Prometheus text exposition format.", contentType: "text/plain", schema: str("")}}})
	add(operation{method: "POST", path: "/v1/ws-tickets", id: "createWebSocketTicket", tag: "live", summary: "A ticket for a WebSocket handshake",
		desc: "Browsers cannot set Authorization on a WebSocket handshake: a signed-in client asks for a ticket and passes it as ?ticket= on /ws or " +
			"/v1/notifications/ws (no other route takes one). It is single-use, valid for expires_in seconds, on the node that issued it.",
		params: []param{hp("Authorization", str(""), "Bearer <token>.")},
		responses: map[int]response{
			201: {desc: "Issued.", contentType: JSON, schema: object([]string{"ticket", "expires_in"}, obj{
				"ticket": str("Pass as ?ticket= once."), "expires_in": integer("Seconds the ticket stays valid.")})},
			401: problemResp("Not signed in.", "WWW-Authenticate"),
			429: problemResp("Too many tickets are outstanding.", "Retry-After"),
		}})
	add(operation{method: "GET", path: "/ws", id: "websocket", tag: "live", summary: "Live updates over WebSocket",
		desc: "A GET with Upgrade: websocket (RFC 6455) switches to a WebSocket that pushes read-model changes as JSON messages.",
		params: []param{
			hp("Upgrade", enum([]string{"websocket"}, ""), ""),
			hp("Sec-WebSocket-Key", str(""), ""),
			hp("Sec-WebSocket-Version", enum([]string{"13"}, ""), ""),
		},
		responses: map[int]response{
			101: {desc: "Switching protocols to WebSocket.", headers: []string{"Sec-WebSocket-Accept"}},
			400: resp400, 503: problemResp("Too many connections or shutting down.", "Retry-After"),
		}})
	add(operation{method: "GET", path: "/v1/notifications/ws", id: "notificationsWebsocket", tag: "live", summary: "The user's notifications over WebSocket",
		desc: "The WebSocket channel of notifications: a GET with Upgrade: websocket and Authorization: Bearer <the user's token> (whose SHA-256 the notification directory holds) " +
			"receives every notification addressed to that user while the session is open, as {\"type\":\"notification\",\"id\",\"kind\",\"severity\",\"subject\",\"text\",\"data\"}.",
		params: []param{
			hp("Authorization", str(""), ""),
			hp("Upgrade", enum([]string{"websocket"}, ""), ""),
			hp("Sec-WebSocket-Key", str(""), ""),
			hp("Sec-WebSocket-Version", enum([]string{"13"}, ""), ""),
		},
		responses: map[int]response{
			101: {desc: "Switching protocols to WebSocket.", headers: []string{"Sec-WebSocket-Accept"}},
			400: resp400, 401: problemResp("No bearer token, or an unknown one.", "WWW-Authenticate"),
			503: problemResp("Too many connections or shutting down.", "Retry-After"),
		}})
	// The caller's in-app inbox (commands/notifications/ports).
	resp401 := problemResp("No authenticated principal.", "WWW-Authenticate")
	resp403 := problemResp("The principal is no user (nor a user's API token): it has no inbox.")
	add(operation{method: "GET", path: "/v1/notifications", id: "listNotifications", tag: "notifications", summary: "The caller's inbox",
		desc: "Every notification addressed to the caller, once per message whatever its channels, newest first; a WebSocket notification sent while the caller had no open session waits here unread.",
		params: []param{
			qp("unread", boolean(""), "true: unread notifications only."),
			qp("limit", intRange(1, 500, 50), "Page size."),
			qp("cursor", bounded(str(""), 64), "next_cursor of the previous page."),
		},
		responses: map[int]response{200: {desc: "A page of the inbox.", contentType: JSON, schema: ref("NotificationPage"), headers: []string{"Cache-Control"}},
			400: resp400, 401: resp401, 403: resp403}})
	add(operation{method: "POST", path: "/v1/notifications/{id}/read", id: "readNotification", tag: "notifications", summary: "Mark one notification read",
		desc:      "Idempotent: a notification read already stays read. Another user's notification is not found.",
		params:    []param{pp("id", str("The notification's id (or the id its WebSocket push carried)."), "")},
		responses: map[int]response{204: {desc: "Read."}, 401: resp401, 403: resp403, 404: resp404}})
	add(operation{method: "POST", path: "/v1/notifications/read-all", id: "readAllNotifications", tag: "notifications", summary: "Mark the whole inbox read",
		desc:      "Everything in the caller's inbox so far is read; later notifications are not. Idempotent.",
		responses: map[int]response{204: {desc: "Read."}, 401: resp401, 403: resp403}})
	add(operation{method: "GET", path: "/openapi.json", id: "openapi", tag: "operations", summary: "This document",
		desc:      "Served as application/json, which every client and browser accepts (application/openapi+json is not registered).",
		params:    []param{ifNoneMatch},
		responses: map[int]response{200: okJSON("Any", "Soc-Read-Position"), 304: resp304, 400: resp400}})
	add(operation{method: "GET", path: "/v1/read-position", id: "readPosition", tag: "operations", summary: "Wait for the read models to move",
		desc: "A long poll: answers the read position (as every query answer's Soc-Read-Position header does) as soon as it is above after, " +
			"or when wait has passed or the node shuts down (then it may equal after). Without after it answers at once. " +
			"A cache keyed on read positions (the gateway's) learns here when its entries went stale. Never cached (no-store).",
		params: []param{
			qp("after", intRange(0, 1<<62, 0), "The read position the caller knows."),
			qp("wait", str(""), "How long to wait: whole seconds (25) or a duration (1500ms, 25s), at most 30 s; default 25 s."),
		},
		responses: map[int]response{200: {desc: "The read position.", contentType: JSON, schema: ref("ReadPosition"), headers: []string{"Soc-Read-Position", "Cache-Control"}},
			400: resp400, 500: resp500, 503: problemResp("No read model runs on this node.")}})

	add(searchOperation(readOK("SearchAnswer", 501)))
	for _, o := range reportingOperations() {
		add(o)
	}

	// Authentication is on for every route but the probes, this document and the public keys:
	// any other answers 401 with the Bearer challenge to a missing, invalid, expired or revoked
	// credential (the router's auth middleware, before the handler; /metrics with
	// --metrics-token). Operations that say more about their 401 keep their own.
	for i, o := range ops {
		if !alwaysOpen[o.path] && o.responses[401].desc == "" {
			ops[i].responses[401] = problemResp("No credential, or an invalid, expired or revoked one.", "WWW-Authenticate")
		}
	}
	return ops
})

// alwaysOpen are the paths that never ask for a credential nor answer 401.
var alwaysOpen = map[string]bool{"/healthz": true, "/readyz": true, "/openapi.json": true, "/.well-known/jwks.json": true,
	"/v1/auth/oidc/login": true}

func withHeader(m map[int]response, status int, h string) map[int]response {
	r := m[status]
	r.headers = append(append([]string(nil), r.headers...), h)
	m[status] = r
	return m
}

func (o operation) render() obj {
	out := obj{"operationId": o.id, "summary": o.summary, "tags": []string{o.tag}}
	if o.desc != "" {
		out["description"] = o.desc
	}
	var params []any
	for _, p := range o.params {
		po := obj{"name": p.name, "in": p.in, "schema": p.schema}
		if p.required {
			po["required"] = true
		}
		if p.desc != "" {
			po["description"] = p.desc
		}
		if p.in == "query" && p.schema["type"] == "array" {
			po["style"], po["explode"] = "form", true
		}
		params = append(params, po)
	}
	if len(params) > 0 {
		out["parameters"] = params
	}
	switch {
	case o.body != "":
		out["requestBody"] = obj{"required": false, "description": "An empty body is the empty object.",
			"content": obj{JSON: obj{"schema": ref(o.body)}}}
	case o.rawBody != nil:
		out["requestBody"] = o.rawBody
	}
	codes := make([]int, 0, len(o.responses))
	for c := range o.responses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	resps := obj{}
	for _, c := range codes {
		r := o.responses[c]
		desc := r.desc
		if desc == "" {
			desc = http.StatusText(c)
		}
		ro := obj{"description": desc}
		if r.contentType != "" {
			schema := r.schema
			if s, ok := schema["$ref"].(string); ok && s == "#/components/schemas/Any" {
				schema = obj{"type": "object"}
			}
			content := obj{r.contentType: obj{"schema": schema}}
			for _, ct := range r.alsoAs {
				content[ct] = obj{"schema": schema}
			}
			ro["content"] = content
		}
		if len(r.headers) > 0 {
			hs := obj{}
			for _, h := range r.headers {
				name := h
				if h == "CommandETag" {
					name = "ETag"
				}
				hs[name] = headerDocs[h]
			}
			ro["headers"] = hs
		}
		resps[strconv.Itoa(c)] = ro
	}
	out["responses"] = resps
	return out
}
