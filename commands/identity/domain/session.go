package domain

import (
	"slices"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// Session is a sign-in: a family of refresh tokens, each used once. Refreshing rotates the
// current token; presenting a rotated one again means it was stolen (or replayed), so the whole
// family is revoked. A session ends at ExpiresAt whatever its refreshes (absolute lifetime).
type Session struct {
	ID          string
	User        string
	Source      contracts.SessionSource
	RefreshHash string   // the current refresh token's hash
	Rotated     []string // hashes of the refresh tokens used up
	StartedAt   time.Time
	ExpiresAt   time.Time
	LastUsed    time.Time
	Revoked     contracts.SessionRevocationReason // empty while live
	Version     int64
}

// IsSessionID reports whether id is a session's stream id.
func IsSessionID(id string) bool {
	return strings.HasPrefix(id, "identity-session-") && events.ValidStreamID(id)
}

// Exists reports whether the session was started.
func (s *Session) Exists() bool { return s.ID != "" }

// Live reports whether the session is neither revoked nor expired at now.
func (s *Session) Live(now time.Time) bool {
	return s.Exists() && s.Revoked == "" && now.Before(s.ExpiresAt)
}

// Start starts the session.
func (s *Session) Start(user string, source contracts.SessionSource, refreshHash string, expires time.Time) ([]es.Change, error) {
	if s.Exists() {
		return nil, &ExistsError{What: "session", ID: s.ID}
	}
	return []es.Change{{Type: contracts.TypeSessionStarted, Data: contracts.SessionStarted{
		UserID: user, Source: source, RefreshSHA256: refreshHash, ExpiresAt: expires.UTC()}}}, nil
}

// RefreshRefusedError is why a refresh token is refused; the reasons never name the token.
type RefreshRefusedError struct{ Reason string }

func (e *RefreshRefusedError) Error() string { return "refresh refused: " + e.Reason }

// Refresh rotates presented (a hash) to next. A rotated token presented again revokes the
// session (reason reuse) and is refused: the changes are to be appended, and the error returned
// after they are.
func (s *Session) Refresh(presented, next string, now time.Time) ([]es.Change, error) {
	switch {
	case s.Revoked != "":
		return nil, &RefreshRefusedError{Reason: "the session was revoked"}
	case !now.Before(s.ExpiresAt):
		return nil, &RefreshRefusedError{Reason: "the session has expired"}
	case slices.Contains(s.Rotated, presented):
		return []es.Change{{Type: contracts.TypeSessionRevoked, Data: contracts.SessionRevoked{Reason: contracts.SessionRevocationReasonReuse}}},
			&RefreshRefusedError{Reason: "the refresh token was used already; the session is revoked"}
	case presented != s.RefreshHash:
		return nil, &RefreshRefusedError{Reason: "unknown refresh token"}
	}
	return []es.Change{{Type: contracts.TypeSessionRefreshed, Data: contracts.SessionRefreshed{RefreshSHA256: next, RotatedSHA256: presented}}}, nil
}

// Revoke ends the session (nothing when it has ended already).
func (s *Session) Revoke(reason contracts.SessionRevocationReason) []es.Change {
	if s.Revoked != "" {
		return nil
	}
	return []es.Change{{Type: contracts.TypeSessionRevoked, Data: contracts.SessionRevoked{Reason: reason}}}
}

// StreamVersion is the version of the last event applied.
func (s *Session) StreamVersion() int64 { return s.Version }

// Apply implements es.Aggregate.
func (s *Session) Apply(e *events.Envelope) error {
	s.Version = e.Version
	switch e.Type {
	case contracts.TypeSessionStarted:
		return events.OnPayload(e.Data, func(d contracts.SessionStarted) {
			s.ID, s.User, s.Source, s.RefreshHash, s.ExpiresAt = e.StreamID, d.UserID, d.Source, d.RefreshSHA256, d.ExpiresAt
			s.StartedAt, s.LastUsed = e.OccurredAt, e.OccurredAt
		})
	case contracts.TypeSessionRefreshed:
		return events.OnPayload(e.Data, func(d contracts.SessionRefreshed) {
			s.Rotated = append(s.Rotated, d.RotatedSHA256)
			s.RefreshHash, s.LastUsed = d.RefreshSHA256, e.OccurredAt
		})
	case contracts.TypeSessionRevoked:
		return events.OnPayload(e.Data, func(d contracts.SessionRevoked) {
			s.Revoked = d.Reason
		})
	}
	return nil
}
