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
// A schedule (reporting-schedule-<uuid>: ReportScheduleSaved, ReportScheduleDeleted; GET, POST
// /v1/report-schedules, GET, PUT, DELETE /v1/report-schedules/{id}, reports:manage) is a
// template, a format, optional filters, a 5-field cron expression read in an IANA time zone
// (robfig/cron/v3; no seconds, no descriptors, no CRON_TZ prefix), recipients (users, teams,
// e-mail addresses, chat channels, bounded) and a delivery (attachment or link). Whoever saves
// it owns it: its reports are requested through Service.Request as that principal, covering the
// teams it could see when it saved the schedule (stored on the event, as a request stores its
// requester's).
//
// The scheduler runs in the node that runs the service (the query target). It sleeps until the
// next fire time (at most a minute, so a clock jump is noticed) and requests each due
// schedule's report with schedule_id and scheduled_for. Exactly once per fire time: the
// report's id is derived from the schedule and the fire time, so the service checks it before
// appending and a second append of it (another node, or a node that crashed between its append
// and its state update) conflicts on ExpectedVersion NoStream. At start the last fire time per
// schedule comes from the ReportRequested events Start reads by type. Runs missed while no node
// ran (or while the schedule's template was gone) collapse into one: the latest missed fire
// time fires once at start, since a report covers its period as of when it is generated. A
// schedule enabled again does not catch up on the runs it skipped while disabled
// (enabled_since). On a fall-back night a wall-clock time that happens twice fires once; on a
// spring-forward night a time that does not exist is skipped that day.
//
// # Delivery
//
// When a scheduled report is generated, the node delivers it through the Notifier port (cmd/soc
// adapts the notification context: its People directory turns users and teams into e-mail
// addresses, its channel senders send): e-mail with the file attached when the schedule says
// attachment and the file is at most Config.MaxAttachment (10 MiB by default), else with a link
// to /v1/reports/{id}/file under Config.BaseURL; the chat channels get the link. A link is
// readable by the report's owner and by principals with teams:all only (a report is its
// requester's): to share a report with others, deliver it as an attachment. The outcome per
// recipient is ReportDelivered on the report's stream, appended once (expected version); a node
// stopped before appending it delivers again at its next start, with the same message ids (an
// e-mail's Message-ID) so a receiver can drop the duplicate.
package reporting
