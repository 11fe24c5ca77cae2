package domain

import (
	"strings"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// InboxAggregate names the per-user inbox streams: they hold what the user read
// (NotificationsMarkedRead, InboxMarkedRead); the inbox's items are the notifications themselves.
const InboxAggregate = "inbox"

// InboxStreamID is the stream of userID's inbox reads.
func InboxStreamID(userID string) string { return es.StreamIDFor(Context, InboxAggregate, userID) }

// InboxStreamPrefix starts every inbox stream id.
const InboxStreamPrefix = Context + "-" + InboxAggregate + "-"

// The payloads of the inbox events.
type (
	MarkedRead      = contracts.NotificationsMarkedRead
	InboxMarkedRead = contracts.InboxMarkedRead
)

// InboxGroup is the inbox item a notification belongs to. The planner records one notification
// per channel for the same message (email and websocket, say); the inbox shows it once: the
// dedup key without its channel ("<trigger>|user:<id>"). Notifications that are no inbox item
// (no user, a channel shared by the organisation, a digest whose items are listed already)
// return "".
func InboxGroup(r *Requested, shared bool) string {
	if r.Recipient.UserID == "" || shared || r.Kind == KindDigest || r.DedupKey == "" {
		return ""
	}
	return strings.TrimSuffix(r.DedupKey, "|"+r.Channel)
}

// LeavesInbox reports whether a suppression takes the notification out of the inbox: the
// recipient's preferences (or quiet hours set to drop) said no; a digest keeps it.
func LeavesInbox(s *Suppressed) bool { return s.Reason != ReasonDigest }

// MarkRead records that userID read the inbox items messageIDs.
func MarkRead(userID string, messageIDs []string, now time.Time) ([]es.Change, error) {
	if strings.TrimSpace(userID) == "" {
		return nil, problem.Rule("/user_id", "marking read needs a user")
	}
	if len(messageIDs) == 0 {
		return nil, problem.Rule("/message_ids", "nothing to mark read")
	}
	return []es.Change{{Type: contracts.TypeNotificationsMarkedRead, Data: MarkedRead{UserID: userID, MessageIDs: messageIDs, ReadAt: now.UTC()}}}, nil
}

// MarkAllRead records that userID read every notification requested at or before position.
func MarkAllRead(userID string, position int64, now time.Time) ([]es.Change, error) {
	if strings.TrimSpace(userID) == "" {
		return nil, problem.Rule("/user_id", "marking read needs a user")
	}
	return []es.Change{{Type: contracts.TypeInboxMarkedRead, Data: InboxMarkedRead{UserID: userID, ThroughPosition: int(position), ReadAt: now.UTC()}}}, nil
}
