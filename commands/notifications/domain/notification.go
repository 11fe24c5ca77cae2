// Package domain holds the notification rules: the Notification aggregate and its delivery
// state machine, and the recipients' Preferences with the pure Decide function. No I/O: the
// application layer (notifications/app) loads a Notification from its events, calls a method,
// and appends the changes the method returns.
//
// # Lifecycle
//
//	           ┌─ NotificationSuppressed ─────────────────────────────► suppressed (terminal)
//	Requested ─┼─ (NotificationDeferred: due later) ─┐
//	           └─────────────────────────────────────┴► pending ──Attempted──► in_flight
//	in_flight ──Sent──────────────────────────────────────────────────────► sent (terminal)
//	in_flight ──Failed{retryable}─────────────────────────────────────────► retrying ──Attempted──► in_flight …
//	in_flight ──Failed{permanent or last attempt} + DeadLettered──────────► dead_lettered (terminal)
//	in_flight ──Held (nobody to deliver to: no open WebSocket session)─────► held (terminal; unread in the inbox)
//
// An attempt is recorded (NotificationAttempted) before the channel is called, so an attempt
// whose outcome never got recorded (the process died between the server accepting the message
// and NotificationSent being appended) is visible after a restart: Interrupt closes it with a
// retryable NotificationFailed{interrupted} due at once, and the next attempt resends the message
// with the same message id, which receivers use to deduplicate.
package domain

import (
	"fmt"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// Stream naming.
const (
	Context   = "notifications"
	Aggregate = "notification"
	// StreamPrefix starts every notification stream id.
	StreamPrefix = Context + "-" + Aggregate + "-"
)

// EventTypes lists every event type of the context.
var EventTypes = []string{contracts.TypeNotificationRequested, contracts.TypeNotificationDeferred, contracts.TypeNotificationSuppressed,
	contracts.TypeNotificationAttempted, contracts.TypeNotificationSent, contracts.TypeNotificationFailed, contracts.TypeNotificationDeadLettered,
	contracts.TypeNotificationHeld, contracts.TypeNotificationsMarkedRead, contracts.TypeInboxMarkedRead}

// Status is a notification's delivery state.
type Status string

const (
	StatusNone         Status = ""              // not requested yet
	StatusPending      Status = "pending"       // requested (or deferred), first attempt due at DueAt
	StatusInFlight     Status = "in_flight"     // an attempt is recorded without its outcome
	StatusRetrying     Status = "retrying"      // the last attempt failed; next one due at DueAt
	StatusSent         Status = "sent"          // terminal
	StatusDeadLettered Status = "dead_lettered" // terminal
	StatusSuppressed   Status = "suppressed"    // terminal: preferences or digest
	// StatusHeld is terminal: the channel had nobody to deliver to (a WebSocket notification
	// whose recipient had no open session); the message waits unread in the recipient's inbox.
	StatusHeld Status = "held"
)

// Terminal reports whether nothing more will happen to a notification in this state.
func (s Status) Terminal() bool {
	return s == StatusSent || s == StatusDeadLettered || s == StatusSuppressed || s == StatusHeld
}

// Suppression reasons.
const (
	ReasonPreference = "preference"
	ReasonQuietHours = "quiet_hours"
	ReasonDigest     = "digest"
)

// KindDigest is the kind of a digest notification (several notifications in one message).
const KindDigest = "digest"

// Severity levels, highest first.
var severities = []string{"critical", "high", "medium", "low", "info"}

// SeverityRank is 5 for critical down to 1 for info, 0 for anything else.
func SeverityRank(s string) int {
	for i, v := range severities {
		if v == s {
			return len(severities) - i
		}
	}
	return 0
}

// ValidSeverity reports whether s is a known severity.
func ValidSeverity(s string) bool { return SeverityRank(s) > 0 }

// The payloads of the context's events, named as the domain speaks of them. Requested is also
// the request a caller builds (Recipient converts from and to channels.Recipient, the same fields).
type (
	Requested    = contracts.NotificationRequested
	DigestItem   = contracts.NotificationRequestedDigestItem
	Deferred     = contracts.NotificationDeferred
	Suppressed   = contracts.NotificationSuppressed
	Attempted    = contracts.NotificationAttempted
	Sent         = contracts.NotificationSent
	Failed       = contracts.NotificationFailed
	DeadLettered = contracts.NotificationDeadLettered
	Held         = contracts.NotificationHeld
)

// RecipientOf is a request's recipient as the channels address it.
func RecipientOf(r *Requested) channels.Recipient { return channels.Recipient(r.Recipient) }

// ToRecipient is a channel recipient as a request records it.
func ToRecipient(r channels.Recipient) contracts.NotificationRequestedRecipient {
	return contracts.NotificationRequestedRecipient(r)
}

// StreamID returns the notification stream for a dedup key.
func StreamID(dedupKey string) string { return es.StreamIDFor(Context, Aggregate, dedupKey) }

// RecipientKey names a recipient in dedup keys: the user id, else the email, else the phone.
func RecipientKey(r channels.Recipient) string {
	switch {
	case r.UserID != "":
		return "user:" + r.UserID
	case r.Email != "":
		return "email:" + strings.ToLower(r.Email)
	case r.Phone != "":
		return "phone:" + r.Phone
	}
	return "name:" + r.Name
}

// DedupKey is the identity of a notification: the trigger (saga, event, scan …), the recipient
// and the channel. The same request twice has the same key, hence the same stream.
func DedupKey(trigger string, to channels.Recipient, channel string) string {
	return trigger + "|" + RecipientKey(to) + "|" + channel
}

// DigestKey is the dedup key of the digest of one recipient and channel due at dueAt.
func DigestKey(to channels.Recipient, channel string, dueAt time.Time) string {
	return "digest|" + RecipientKey(to) + "|" + channel + "|" + dueAt.UTC().Format(time.RFC3339)
}

// MessageIDOf is the delivery id of a notification: the uuid of its stream id.
func MessageIDOf(streamID string) string { return strings.TrimPrefix(streamID, StreamPrefix) }

// IsNotificationID reports whether id is a notification stream id.
func IsNotificationID(id string) bool {
	return strings.HasPrefix(id, StreamPrefix) && events.ValidStreamID(id)
}

// Notification is the aggregate: one message to one recipient on one channel.
type Notification struct {
	ID       string
	Request  Requested
	Status   Status
	DueAt    time.Time // next attempt (pending, retrying)
	Attempts int       // attempts started (recorded)
	// InFlight is the attempt recorded without an outcome (StatusInFlight), 0 otherwise.
	InFlight      int
	LastAttemptAt time.Time
	LastError     string
	Suppressed    *Suppressed
	Deferred      *Deferred
}

var _ es.Aggregate = (*Notification)(nil)

// Apply implements es.Aggregate.
func (n *Notification) Apply(e *events.Envelope) error {
	switch e.Type {
	case contracts.TypeNotificationRequested:
		return events.OnPayload(e.Data, func(d Requested) {
			n.ID, n.Request, n.Status, n.DueAt = e.StreamID, d, StatusPending, d.DueAt
		})
	case contracts.TypeNotificationDeferred:
		return events.OnPayload(e.Data, func(d Deferred) {
			n.Deferred = &d
			if d.Until.After(n.DueAt) {
				n.DueAt = d.Until
			}
		})
	case contracts.TypeNotificationSuppressed:
		return events.OnPayload(e.Data, func(d Suppressed) {
			n.Suppressed, n.Status = &d, StatusSuppressed
		})
	case contracts.TypeNotificationAttempted:
		return events.OnPayload(e.Data, func(d Attempted) {
			n.Status, n.InFlight, n.Attempts, n.LastAttemptAt = StatusInFlight, d.Attempt, d.Attempt, d.AttemptedAt
		})
	case contracts.TypeNotificationSent:
		n.Status, n.InFlight = StatusSent, 0
	case contracts.TypeNotificationFailed:
		return events.OnPayload(e.Data, func(d Failed) {
			n.Status, n.InFlight, n.LastError = StatusRetrying, 0, d.Error
			n.DueAt = d.NextAttemptAt
		})
	case contracts.TypeNotificationDeadLettered:
		n.Status, n.InFlight = StatusDeadLettered, 0
	case contracts.TypeNotificationHeld:
		n.Status, n.InFlight = StatusHeld, 0
	}
	return nil
}

// Exists reports whether the notification has been requested.
func (n *Notification) Exists() bool { return n.Status != StatusNone }

// MessageID is the delivery id every attempt uses.
func (n *Notification) MessageID() string { return n.Request.MessageID }

// StateError refuses a step the notification's state does not allow.
type StateError struct {
	NotificationID string
	Status         Status
	Op             string
}

func (e *StateError) Error() string {
	if e.Status == StatusNone {
		return fmt.Sprintf("notification %s: cannot %s: not requested", e.NotificationID, e.Op)
	}
	return fmt.Sprintf("notification %s is %s: cannot %s", e.NotificationID, e.Status, e.Op)
}
func (e *StateError) Kind() problem.Kind { return problem.KindConflict }
func (e *StateError) Field() string      { return "/status" }

// RuleError is a request refused by a rule (missing recipient, unknown severity, …).
type RuleError = problem.RuleError

// maxError bounds a recorded error or reason (the schemas' maxLength).
const maxError = 4096

func clip(s string) string { return Clip(s, maxError) }

// Clip shortens s to at most n bytes, ending it with "…" when cut, without splitting a UTF-8
// sequence.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && (s[cut]&0xC0) == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

// ValidateRequest checks a request before it is recorded.
func ValidateRequest(r *Requested) error {
	switch {
	case strings.TrimSpace(r.DedupKey) == "":
		return problem.Rule("/dedup_key", "a notification needs a dedup key")
	case r.Channel == "":
		return problem.Rule("/channel", "a notification needs a channel")
	case r.Kind == "":
		return problem.Rule("/kind", "a notification needs a kind")
	case !ValidSeverity(string(r.Severity)):
		return problem.Rule("/severity", "severity %q is not one of critical, high, medium, low, info", r.Severity)
	case r.Recipient == (contracts.NotificationRequestedRecipient{}):
		return problem.Rule("/recipient", "a notification needs a recipient")
	case r.Text == "" && r.HTML == "" && r.Data == nil && len(r.DigestItems) == 0:
		return problem.Rule("/text", "a notification needs a rendered text or template data")
	}
	return nil
}

// Decide records a new notification with what the recipient's preferences decided: due at
// once, deferred, or suppressed (for a digest, d.DigestID names the digest notification).
func (n *Notification) Decide(id string, r Requested, d Decision, now time.Time) ([]es.Change, error) {
	if n.Exists() {
		return nil, &StateError{NotificationID: n.ID, Status: n.Status, Op: "request again"}
	}
	if !IsNotificationID(id) {
		return nil, problem.Rule("/notification_id", "%q is not a notification stream id", id)
	}
	if err := ValidateRequest(&r); err != nil {
		return nil, err
	}
	now = now.UTC()
	r.MessageID, r.RequestedAt, r.DueAt = MessageIDOf(id), now, now
	changes := []es.Change{{Type: contracts.TypeNotificationRequested, Data: r}}
	switch d.Outcome {
	case OutcomeDeliver:
	case OutcomeDefer:
		changes = append(changes, es.Change{Type: contracts.TypeNotificationDeferred, Data: Deferred{Reason: contracts.DeferralReason(d.Reason), Until: d.Until.UTC()}})
	case OutcomeSuppress:
		changes = append(changes, es.Change{Type: contracts.TypeNotificationSuppressed, Data: Suppressed{Reason: contracts.SuppressionReason(d.Reason), Detail: d.Detail}})
	case OutcomeDigest:
		if !IsNotificationID(d.DigestID) {
			return nil, problem.Rule("/digest_id", "%q is not a notification stream id", d.DigestID)
		}
		changes = append(changes, es.Change{Type: contracts.TypeNotificationSuppressed, Data: Suppressed{Reason: ReasonDigest, Detail: d.Detail,
			DigestID: d.DigestID, DigestDueAt: d.DigestDueAt.UTC()}})
	default:
		return nil, fmt.Errorf("notifications: unknown decision outcome %q", d.Outcome)
	}
	return changes, nil
}

// Attempt records the start of the next delivery attempt. It is refused unless the
// notification is pending or retrying and due by now.
func (n *Notification) Attempt(now time.Time) ([]es.Change, int, error) {
	if n.Status != StatusPending && n.Status != StatusRetrying {
		return nil, 0, &StateError{NotificationID: n.ID, Status: n.Status, Op: "attempt delivery"}
	}
	if now.Before(n.DueAt) {
		return nil, 0, problem.Rule("/due_at", "notification %s is not due before %s", n.ID, n.DueAt.Format(time.RFC3339))
	}
	a := n.Attempts + 1
	return []es.Change{{Type: contracts.TypeNotificationAttempted, Data: Attempted{Attempt: a, MessageID: n.MessageID(), AttemptedAt: now.UTC()}}}, a, nil
}

func (n *Notification) checkInFlight(attempt int, op string) error {
	if n.Status != StatusInFlight {
		return &StateError{NotificationID: n.ID, Status: n.Status, Op: op}
	}
	if attempt != n.InFlight {
		return &StateError{NotificationID: n.ID, Status: n.Status, Op: fmt.Sprintf("%s for attempt %d (attempt %d is in flight)", op, attempt, n.InFlight)}
	}
	return nil
}

// RecordSent records that the channel accepted attempt.
func (n *Notification) RecordSent(attempt int, providerID string, now time.Time) ([]es.Change, error) {
	if err := n.checkInFlight(attempt, "record a send"); err != nil {
		return nil, err
	}
	return []es.Change{{Type: contracts.TypeNotificationSent, Data: Sent{Attempt: attempt, MessageID: n.MessageID(), SentAt: now.UTC(), ProviderID: providerID}}}, nil
}

// RecordHeld records that attempt found nobody to deliver to (no open WebSocket session): the
// notification is not sent and not retried; it waits in the recipient's inbox.
func (n *Notification) RecordHeld(attempt int, reason string, now time.Time) ([]es.Change, error) {
	if err := n.checkInFlight(attempt, "record a hold"); err != nil {
		return nil, err
	}
	return []es.Change{{Type: contracts.TypeNotificationHeld, Data: Held{Attempt: attempt, MessageID: n.MessageID(), HeldAt: now.UTC(), Reason: clip(reason)}}}, nil
}

// RecordFailure records that attempt failed. A permanent failure, or a failure of attempt
// maxAttempts, dead-letters the notification in the same batch; otherwise the next attempt is
// due at next.
func (n *Notification) RecordFailure(attempt int, cause string, retryable bool, next time.Time, maxAttempts int, now time.Time) ([]es.Change, error) {
	if err := n.checkInFlight(attempt, "record a failure"); err != nil {
		return nil, err
	}
	return n.fail(attempt, cause, retryable, false, next, maxAttempts, now), nil
}

// Interrupt closes an attempt whose outcome was never recorded (the worker stopped during it):
// the message may have been delivered, so the next attempt, due at once, resends it with the
// same message id. If it was the last allowed attempt the notification is dead-lettered instead.
func (n *Notification) Interrupt(maxAttempts int, now time.Time) ([]es.Change, error) {
	if n.Status != StatusInFlight {
		return nil, &StateError{NotificationID: n.ID, Status: n.Status, Op: "interrupt an attempt"}
	}
	cause := fmt.Sprintf("attempt %d interrupted: outcome unknown (the worker stopped before recording it); resending with the same message id", n.InFlight)
	return n.fail(n.InFlight, cause, true, true, now, maxAttempts, now), nil
}

func (n *Notification) fail(attempt int, cause string, retryable, interrupted bool, next time.Time, maxAttempts int, now time.Time) []es.Change {
	now = now.UTC()
	cause = clip(cause)
	f := Failed{Attempt: attempt, Error: cause, Retryable: retryable, FailedAt: now}
	if interrupted { // written only when set, as the hand-written payload did (omitempty)
		f.Interrupted = &interrupted
	}
	final := !retryable || (maxAttempts > 0 && attempt >= maxAttempts)
	if !final {
		if next.Before(now) {
			next = now
		}
		f.NextAttemptAt = next.UTC()
	}
	changes := []es.Change{{Type: contracts.TypeNotificationFailed, Data: f}}
	if final {
		reason := cause
		if retryable {
			reason = clip(fmt.Sprintf("gave up after %d attempts: %s", attempt, cause))
		}
		changes = append(changes, es.Change{Type: contracts.TypeNotificationDeadLettered, Data: DeadLettered{Attempts: attempt, Reason: reason, DeadLetteredAt: now}})
	}
	return changes
}

// DeadLetter gives up without an attempt (for example: the channel is not configured).
func (n *Notification) DeadLetter(reason string, now time.Time) ([]es.Change, error) {
	if n.Status != StatusPending && n.Status != StatusRetrying {
		return nil, &StateError{NotificationID: n.ID, Status: n.Status, Op: "dead-letter"}
	}
	if strings.TrimSpace(reason) == "" {
		return nil, problem.Rule("/reason", "dead-lettering needs a reason")
	}
	return []es.Change{{Type: contracts.TypeNotificationDeadLettered, Data: DeadLettered{Attempts: n.Attempts, Reason: clip(reason), DeadLetteredAt: now.UTC()}}}, nil
}

// Message is the channel message of the notification; every attempt sends the same id.
func (n *Notification) Message() channels.Message {
	r := n.Request
	return channels.Message{ID: r.MessageID, To: RecipientOf(&r), Subject: r.Subject, Text: r.Text, HTML: r.HTML,
		Severity: string(r.Severity), Kind: r.Kind, Data: r.Data}
}
