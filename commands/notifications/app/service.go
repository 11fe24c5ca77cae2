package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// PreferenceSource returns a user's preferences; a user without any gets the zero value
// (everything delivered at once).
type PreferenceSource interface {
	Preferences(ctx context.Context, userID string) (domain.Preferences, error)
}

// StaticPreferences is a PreferenceSource from memory, safe for concurrent use.
type StaticPreferences struct {
	mu sync.RWMutex
	m  map[string]domain.Preferences
}

// NewStaticPreferences returns a source holding prefs (keyed by their UserID).
func NewStaticPreferences(prefs ...domain.Preferences) *StaticPreferences {
	s := &StaticPreferences{m: map[string]domain.Preferences{}}
	for _, p := range prefs {
		s.m[p.UserID] = p
	}
	return s
}

// Set replaces one user's preferences.
func (s *StaticPreferences) Set(p domain.Preferences) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[p.UserID] = p
}

// Preferences implements PreferenceSource.
func (s *StaticPreferences) Preferences(_ context.Context, userID string) (domain.Preferences, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.m[userID], nil
}

// Request asks for one message to one recipient on one channel.
type Request struct {
	// Trigger identifies why: the saga and its trigger (e.g. "new_findings|scans-scan-…"). The
	// dedup key is Trigger + recipient + channel: the same request twice is one notification.
	Trigger   string
	Recipient channels.Recipient
	Channel   string
	Kind      string
	Severity  string
	// Content: rendered Subject/Text/HTML, or Data for the channel's templates of Kind.
	Subject, Text, HTML string
	Data                map[string]any
	// Coalesce, when positive, gathers what would be delivered into one digest per recipient and
	// channel every Coalesce (domain.Coalesce): for messages that come in bursts.
	Coalesce time.Duration
	Meta     es.Meta // actor, correlation and causation ids copied onto the events
}

// Result tells what became of a request.
type Result struct {
	NotificationID string
	MessageID      string
	Decision       domain.Decision
	// Duplicate: the notification existed already; nothing was appended.
	Duplicate bool
	Position  int64
}

// Service records notification requests, deciding each with the recipient's preferences.
type Service struct {
	store es.Store
	prefs PreferenceSource
	now   func() time.Time
}

// NewService returns a Service over store; prefs may be nil (everything delivered at once).
func NewService(store es.Store, prefs PreferenceSource, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, prefs: prefs, now: now}
}

// Request records a notification (NotificationRequested, plus NotificationDeferred or
// NotificationSuppressed when the preferences say so). Requesting the same trigger, recipient
// and channel again appends nothing and reports Duplicate.
func (s *Service) Request(ctx context.Context, r Request) (Result, error) {
	key := domain.DedupKey(r.Trigger, r.Recipient, r.Channel)
	if r.Trigger == "" {
		key = ""
	}
	req := domain.Requested{DedupKey: key, Recipient: domain.ToRecipient(r.Recipient), Channel: r.Channel, Kind: r.Kind, Severity: contracts.Severity(r.Severity),
		Subject: r.Subject, Text: r.Text, HTML: r.HTML, Data: r.Data}
	if err := domain.ValidateRequest(&req); err != nil {
		return Result{}, err
	}
	if r.Data != nil { // keep what the store will give back: JSON types
		b, err := json.Marshal(r.Data)
		if err != nil {
			return Result{}, &domain.RuleError{Path: "/data", Reason: "data is not JSON: " + err.Error()}
		}
		req.Data = nil
		if err := json.Unmarshal(b, &req.Data); err != nil {
			return Result{}, err
		}
	}
	return s.record(ctx, domain.StreamID(key), req, r.Meta, r.Coalesce)
}

func (s *Service) record(ctx context.Context, id string, req domain.Requested, meta es.Meta, coalesce time.Duration) (Result, error) {
	res := Result{NotificationID: id, MessageID: domain.MessageIDOf(id)}
	var n domain.Notification
	v, err := es.Load(ctx, s.store, id, &n)
	if err != nil {
		return res, err
	}
	if n.Exists() {
		res.Duplicate = true
		return res, nil
	}
	var prefs domain.Preferences
	if s.prefs != nil && req.Recipient.UserID != "" {
		if prefs, err = s.prefs.Preferences(ctx, req.Recipient.UserID); err != nil {
			return res, fmt.Errorf("notifications: preferences of %s: %w", req.Recipient.UserID, err)
		}
	}
	now := s.now().UTC()
	d := domain.Decide(prefs, domain.Candidate{Channel: req.Channel, Kind: req.Kind, Severity: string(req.Severity)}, now)
	d = domain.Coalesce(d, req.Kind, coalesce, now)
	if d.Outcome == domain.OutcomeDigest {
		if err := s.pickDigest(ctx, &d, req); err != nil {
			return res, err
		}
	}
	res.Decision = d
	changes, err := n.Decide(id, req, d, now)
	if err != nil {
		return res, err
	}
	meta.IdempotencyKey = "request:" + req.DedupKey
	if meta.Actor == "" {
		meta.Actor = "system:notifications"
	}
	ar, err := es.Save(ctx, s.store, id, events.Exact(v), meta, changes)
	var vc *events.VersionConflictError
	if errors.As(err, &vc) { // requested concurrently by another caller
		res.Duplicate = true
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.Duplicate, res.Position = ar.Duplicate, ar.LastPosition
	return res, nil
}

// pickDigest names the digest notification of the decision's window. A window whose digest was
// already requested (the worker closed it) is full: the message joins the next window.
func (s *Service) pickDigest(ctx context.Context, d *domain.Decision, req domain.Requested) error {
	interval := d.DigestDueAt.Sub(d.DigestStart)
	for range 8 {
		id := domain.StreamID(domain.DigestKey(domain.RecipientOf(&req), req.Channel, d.DigestDueAt))
		_, err := s.store.ReadStream(ctx, id, events.ReadStreamOptions{Limit: 1})
		if errors.Is(err, events.ErrStreamNotFound) {
			d.DigestID = id
			return nil
		}
		if err != nil {
			return err
		}
		d.DigestStart, d.DigestDueAt = d.DigestDueAt, d.DigestDueAt.Add(interval)
	}
	return fmt.Errorf("notifications: no open digest window for %s on %s", domain.RecipientKey(domain.RecipientOf(&req)), req.Channel)
}
