package openapi

import "slices"

// The reporting routes (query-api/reporting): report jobs, their files and report templates.
// Kept apart from operations.go so the reporting context documents itself in one place.

// documentTypes are the media types of the report formats (render.Format.ContentType).
var documentTypes = []string{"application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv"}

var reportStatuses = []string{"pending", "running", "generated", "failed"}

// reportWrite is the responses of a reporting write answering status with schema.
func reportWrite(status int, desc, schema string, headers ...string) map[int]response {
	return map[int]response{status: {desc: desc, contentType: JSON, schema: ref(schema), headers: headers},
		400: resp400, 404: resp404, 409: resp409, 413: resp413, 500: resp500}
}

func reportingOperations() []operation {
	reportID := pp("id", str("reporting-report-<uuid>"), "")
	scheduleID := pp("id", bounded(str("reporting-schedule-<uuid>"), 64), "")
	templateID := pp("id", bounded(str("A built-in name (executive, findings) or reporting-template-<uuid>."), 64), "")
	return slices.Concat([]operation{
		{method: "POST", path: "/v1/reports", id: "requestReport", tag: "reports", summary: "Generate a report (a job)",
			desc: "Records ReportRequested and answers 202 at once; a worker generates the document. Poll the Location until status is generated or failed. " +
				"The report covers the requester's teams only (every team with teams:all).",
			body: "RequestReport",
			responses: func() map[int]response {
				m := reportWrite(202, "Requested.", "ReportAccepted", "Location")
				delete(m, 404)
				delete(m, 409)
				m[503] = problemResp("Too many reports wait for a worker.", "Retry-After")
				return m
			}()},
		{method: "GET", path: "/v1/reports", id: "listReports", tag: "reports", summary: "List reports, newest first",
			desc: "One's own reports; every report with teams:all.",
			params: []param{qp("status", enum(reportStatuses, ""), ""), qp("template", bounded(str(""), 64), ""),
				qp("limit", intRange(1, 500, 50), ""), ifNoneMatch},
			responses: map[int]response{200: okJSON("ReportList"), 304: resp304, 400: resp400, 500: resp500}},
		{method: "GET", path: "/v1/reports/{id}", id: "getReport", tag: "reports", summary: "Get a report's status, progress and size",
			params:    []param{reportID, ifNoneMatch},
			responses: map[int]response{200: okJSON("Report"), 304: resp304, 400: resp400, 404: resp404, 500: resp500}},
		{method: "GET", path: "/v1/reports/{id}/file", id: "downloadReport", tag: "reports", summary: "Download a generated report",
			desc:   "The document (PDF, XLSX or CSV) as an attachment; its ETag is its sha256. 409 while it is pending or running, or when it failed (detail: the reason).",
			params: []param{reportID, ifNoneMatch, hp("Range", str(""), "A byte range (resume a download).")},
			responses: map[int]response{
				200: {desc: "The document.", contentType: documentTypes[0], alsoAs: documentTypes[1:], schema: obj{"type": "string"},
					headers: []string{"ETag", "Cache-Control"}},
				206: {desc: "A range of the document.", contentType: documentTypes[0], alsoAs: documentTypes[1:], schema: obj{"type": "string"}},
				304: resp304, 400: resp400, 404: resp404, 409: resp409, 500: resp500}},
	}, savedOperations(saved{path: "/v1/report-templates", name: "ReportTemplate", id: templateID,
		listSum:    "List report templates",
		listDesc:   "The built-in templates first, then the saved ones by name; sections is the catalogue a template chooses from.",
		createSum:  "Create (or copy, with based_on) a report template",
		getSum:     "Get a report template",
		updateSum:  "Change a saved report template",
		updateDesc: "Absent fields keep their value. Built-in templates cannot be changed (409): copy them.",
		deleteSum:  "Delete a saved report template",
	}), savedOperations(saved{path: "/v1/report-schedules", name: "ReportSchedule", id: scheduleID,
		listSum:    "List report schedules",
		listDesc:   "By name, each with its next run in its time zone.",
		createSum:  "Schedule a report (cron) and its delivery",
		createDesc: "The caller owns the schedule: its reports cover what the caller may see. A bad cron expression is a 400 naming /cron.",
		getSum:     "Get a report schedule",
		updateSum:  "Change a report schedule",
		updateDesc: "Absent fields keep their value; the caller becomes the owner.",
		deleteSum:  "Delete a report schedule",
	}))
}

// saved is a kind of saved object of the reports tag (templates, schedules): the same five
// routes under path, its schemas name, NameList and Savename, told apart by what their
// summaries and descriptions say.
type saved struct {
	path, name string
	id         param
	// Each route's summary, and the descriptions of those that have one.
	listSum, listDesc, createSum, createDesc, getSum, updateSum, updateDesc, deleteSum string
}

// savedOperations lists, creates, gets, changes and deletes s.
func savedOperations(s saved) []operation {
	one := s.path + "/{id}"
	return []operation{
		{method: "GET", path: s.path, id: "list" + s.name + "s", tag: "reports", summary: s.listSum, desc: s.listDesc,
			params:    []param{ifNoneMatch},
			responses: map[int]response{200: okJSON(s.name + "List"), 304: resp304, 400: resp400, 500: resp500}},
		{method: "POST", path: s.path, id: "create" + s.name, tag: "reports", summary: s.createSum, desc: s.createDesc,
			body: "Save" + s.name, responses: reportWrite(201, "Created.", s.name, "Location")},
		{method: "GET", path: one, id: "get" + s.name, tag: "reports", summary: s.getSum,
			params:    []param{s.id, ifNoneMatch},
			responses: map[int]response{200: okJSON(s.name), 304: resp304, 400: resp400, 404: resp404, 500: resp500}},
		{method: "PUT", path: one, id: "update" + s.name, tag: "reports", summary: s.updateSum, desc: s.updateDesc,
			params: []param{s.id}, body: "Save" + s.name, responses: reportWrite(200, "Changed.", s.name, "Location")},
		{method: "DELETE", path: one, id: "delete" + s.name, tag: "reports", summary: s.deleteSum,
			params:    []param{s.id},
			responses: map[int]response{204: {desc: "Deleted."}, 404: resp404, 409: resp409, 500: resp500}},
	}
}

// reportingSchemas are the reporting answers' schemas.
func reportingSchemas() obj {
	template := object([]string{"id", "name", "built_in", "sections", "filters", "period", "branding"}, obj{
		"id": str(""), "name": str(""), "description": str(""), "built_in": boolean(""), "based_on": str(""),
		"sections": arrayOf(str("")), "filters": ref("ReportFilterInput"), "period": ref("ReportPeriodInput"),
		"branding": ref("ReportBrandingInput"), "version": integer("The stream version (absent for a built-in)."),
		"updated_at": dateTime(""), "updated_by": str(""),
	})
	report := object([]string{"id", "status", "progress", "template", "format", "sections", "filters", "period", "requested_by", "requested_at"}, obj{
		"id": str("reporting-report-<uuid>"), "status": enum(reportStatuses, ""), "progress": integer("Percent."),
		"template": str(""), "template_name": str(""), "format": enum([]string{"pdf", "xlsx", "csv"}, ""),
		"sections": arrayOf(str("")), "filters": ref("ReportFilterInput"),
		"period":       ref("ReportPeriodInput"),
		"requested_by": str("The requester's actor."), "requested_at": dateTime(""), "schedule_id": str(""),
		"finished_at": dateTime(""), "size_bytes": integer(""), "sha256": str("The file's SHA-256 (its ETag)."),
		"pages": integer(""), "rows": integer("Table rows."), "truncated": boolean("The findings list stopped at its cap."),
		"duration_ms": integer(""), "reason": str("Why it failed."),
		"scheduled_for": dateTime("The fire time of the schedule that requested it."),
		"deliveries": arrayOf(object([]string{"channel", "recipient", "mode"}, obj{
			"channel": str(""), "recipient": str(""), "mode": enum([]string{"attachment", "link"}, ""), "error": str("Why it failed."),
		})),
	})
	schedule := object([]string{"id", "name", "template", "format", "cron", "time_zone", "recipients", "delivery", "enabled", "owner", "version"}, obj{
		"id": str("reporting-schedule-<uuid>"), "name": str(""), "template": str(""), "format": enum([]string{"pdf", "xlsx", "csv"}, ""),
		"filters": ref("ReportFilterInput"), "cron": str("5 fields, in time_zone."), "time_zone": str("IANA name."),
		"recipients": ref("ReportRecipientsInput"), "delivery": enum([]string{"attachment", "link"}, ""), "enabled": boolean(""),
		"owner": str("The actor whose scope the reports cover."), "version": integer(""), "updated_at": dateTime(""),
		"last_scheduled_for": dateTime("The last fire time a report was requested for."),
		"next_run":           dateTime("The next fire time (absent when disabled)."),
	})
	return obj{
		"ReportTemplate":     template,
		"ReportTemplateList": object([]string{"items", "sections"}, obj{"items": arrayOf(ref("ReportTemplate")), "sections": arrayOf(str(""))}),
		"Report":             report,
		"ReportList":         object([]string{"items"}, obj{"items": arrayOf(ref("Report"))}),
		"ReportSchedule":     schedule,
		"ReportScheduleList": object([]string{"items"}, obj{"items": arrayOf(ref("ReportSchedule"))}),
		"ReportAccepted":     object([]string{"id", "status", "location"}, obj{"id": str(""), "status": enum(reportStatuses, ""), "location": str("")}),
	}
}
