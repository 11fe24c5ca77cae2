// Package reporting is the reporting context (read side only, apart from its own events):
// report templates, report jobs generated off the request path, and their files.
//
// # Templates
//
// A template is which sections (from the fixed Catalogue), which findings (the analytics
// filter), which period (last 30 or 90 days, the last complete calendar quarter, or a custom
// [from, to)), how its series are bucketed and in which time zone, and the document's branding.
// Two are built in (executive and findings) and never change; users copy them (POST
// /v1/report-templates with based_on), edit their copies (PUT: absent fields keep their value)
// and delete them. Saved templates are reporting-template-<uuid> streams (ReportTemplateSaved,
// ReportTemplateDeleted).
//
// # Jobs
//
// POST /v1/reports validates the request, appends ReportRequested (the job, and the auditors'
// record of who asked for what, with which filters and for which teams) and answers 202; a pool
// of Config.Workers workers builds the document (Builder: analytics figures, charts and tables,
// and the findings list, scoped to the requester's teams as they were at request time), renders
// it and writes it atomically to <data>/reports/<id>.<ext>, then appends ReportGenerated (size,
// sha256 — the file's ETag —, rows, duration) or ReportFailed (the reason). A report is a
// reporting-report-<uuid> stream, finished with an expected version, so it is finished once.
//
// The service's state is a fold of the reporting events only: Start reads them back by type
// (the store's type index, not a replay of $all) and queues every report requested and never
// finished, so a node stopped before or while generating a report generates it after its
// restart. Progress is in memory (a restarted job starts again at 0). The node running the
// service generates and serves the files: in a split deployment, run it on one query node (or
// give the query nodes one shared data directory). Its answers carry no read position (they are
// the service's state, not a projection's), so the gateway's response cache never keeps them.
//
// # Who sees what
//
// A report holds the figures of the teams its requester could see, so a report is its
// requester's: GET /v1/reports lists one's own reports, and a principal with teams:all (an
// admin, an analyst, an auditor) lists and downloads everyone's. Templates hold no data and are
// everyone's to read (reports:read); changing them takes reports:manage.
//
// # Schedules
//
// Schedules (cron) and delivery through the notification channels are a later task: the
// scheduler calls Service.Request with the schedule's owner as the requester and its id as
// ScheduleID, exactly as POST /v1/reports does.
package reporting
