// Package app is the notification service core: Service records requests (deciding each with
// the recipient's preferences) and Worker delivers them through the channel clients of
// notifications/channels, with retries, backoff and a dead-letter state; Planner turns the flow
// sagas' commands into requests, reading recipients through the People port (the Directory
// file, or the identity context's read state); Inbox is every user's in-app inbox, served by
// notifications/ports.
//
// # Recipients
//
// People (declared in people.go, where the planner uses it) answers a person by id or e-mail
// (name, e-mail, phone, time zone, lead, channels), a team by name (members, lead) and the
// fallback users; preferences come through PreferenceSource. Plain values: an adapter needs no
// JSON type of this package.
//
// # Inbox and WebSocket sessions
//
// The inbox is a read model of the notification events, not events of its own: every
// NotificationRequested to a user on a personal channel is an item, the channels of one message
// (same trigger and user) one item; what the recipient's preferences suppressed and digest
// notifications (whose items are listed already) are not items. Reads are events on the user's
// inbox stream (NotificationsMarkedRead, InboxMarkedRead), so they survive a restart and marking
// is idempotent. The WebSocket channel (WebSocketSender) answers ErrNoSession for a user with no
// open session; the worker then records NotificationHeld: not sent, not retried, and unread in
// the inbox. It is not pushed when the user connects later: clients list their unread items on
// connecting.
//
// # SLA breach digests
//
// The planner asks the Service to coalesce SLA breach escalations (Request.Coalesce,
// PlannerConfig.SLADigestWindow, default one minute): a breach that would be delivered is
// suppressed into the digest of its recipient, channel and window — the digest machinery below,
// so a crash mid-window loses nothing (the suppressions are events; the worker's index rebuilds
// the open windows). When the window closes the worker requests one digest per recipient and
// channel listing the breaches ("SLA breached: N findings"; at most 1000 listed, the rest
// counted).
//
// # Requests and duplicates
//
// A notification is one message to one recipient on one channel. Its stream is
// notifications-notification-<uuidv5 of dedup key>, the dedup key being
// "<trigger>|<recipient>|<channel>" (domain.DedupKey): the same request twice — a redelivered
// event, a retried saga command — finds the stream and appends nothing (Result.Duplicate). The
// notification's message id is the uuid of its stream id; every attempt sends that id, so the
// SMTP Message-ID and the webhook X-SOC-Delivery header are the same on a resend.
//
// Service.Request decides with domain.Decide and records NotificationRequested alone (deliver
// now), with NotificationDeferred (quiet hours: first attempt at their end), or with
// NotificationSuppressed (preference; quiet hours configured to drop; digest, naming the digest
// notification of the window).
//
// # Delivery sequence (exactly-once-ish)
//
// For each due notification the worker, holding the stream version it just read:
//
//  1. appends NotificationAttempted{attempt n, message_id} — durable before the channel is called;
//  2. calls Sender.Send with the message (id = message_id), bounded by AttemptTimeout;
//  3. appends NotificationSent{n}, or NotificationFailed{n, error, retryable, next_attempt_at},
//     or NotificationFailed + NotificationDeadLettered in one batch (a *channels.PermanentError
//     dead-letters at once; so does a failure of attempt MaxAttempts).
//
// Killed between 1 and 3 (typically: the SMTP server accepted the message but the process died
// before NotificationSent was stored), the stream ends with an Attempted without outcome. When
// that attempt is older than Lease, a worker closes it with NotificationFailed{interrupted,
// retryable, next_attempt_at = now} and goes on with attempt n+1: the message is sent again,
// once, with the same message id, so receivers that deduplicate (SMTP Message-ID, X-SOC-Delivery)
// see it once. Slack, Teams and Twilio offer no such key: there the resend is visible. Killed
// anywhere else, nothing is sent twice: before 1 nothing was sent, after 3 the outcome is known.
// An interrupted attempt counts towards MaxAttempts, so a message that crashes its worker every
// time ends dead-lettered rather than resent for ever.
//
// Appends use exact expected versions: of two workers racing on one notification only one
// records the attempt, and only that one sends.
//
// Backoff after attempt n is BaseBackoff·2^(n-1) capped at MaxBackoff, shortened by up to
// Jitter of itself by a fraction derived from the message id and n (deterministic), and never
// shorter than the channel's Retry-After.
//
// # Concurrency
//
// Each channel has its own slots (Concurrency, default 4): DispatchDue starts a goroutine per
// due notification while its channel has a free slot and leaves the rest due for the next pass,
// so a hanging webhook holds only the webhook's slots, never email's. Each Send is bounded by
// AttemptTimeout; a timeout is a retryable failure.
//
// # Digests
//
// A message on a channel in digest mode is suppressed into the digest of its window
// (NotificationSuppressed{digest, digest_id, digest_due_at}); the digest notification's stream id
// derives from recipient, channel and window end. When the window has closed the worker
// requests the digest (kind "digest", rendered text listing the items, digest_items) and delivers
// it like any notification; the recipient's quiet hours still apply to it. A message that would
// join a window whose digest is already requested joins the next window.
//
// # Limits
//
// The worker keeps an in-memory index (as the scans importer and the CVE catalogue do), restored
// on its first pass from its snapshot (WorkerConfig.Snapshots) and the events of $all after it,
// and kept current by following the log through the eventlog consumer port: the live
// notifications (not yet sent, dead-lettered or suppressed), the open digest windows and the ids
// of requested digests. Without a usable snapshot start-up reads the whole history of $all once;
// memory grows with live notifications and requested digests, not with sent ones. Run one worker per store: a second one is safe (exact
// versions) but would treat the other's long attempts as interrupted after Lease.
// A request racing with the digest of its window being requested (both within the same instant)
// can land in a closed window; the worker logs it and does not deliver it. Preferences come from
// a PreferenceSource port (StaticPreferences in memory, the Directory); they are not
// event-sourced here. The inbox keeps the newest InboxConfig.Size items per user in memory and
// reads the whole history of $all on its first call after a start (no snapshot yet).
// Sender.Send returns no provider id, so NotificationSent.provider_id stays empty.
package app
