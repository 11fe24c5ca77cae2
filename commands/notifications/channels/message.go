package channels

import (
	"context"
	"fmt"
	"regexp"
)

// Event kinds that have default templates.
const (
	KindNewFindings           = "new_findings"            // new critical/high findings, grouped per scan
	KindKEVAlert              = "kev_alert"               // finding with a KEV-listed CVE on a production asset
	KindSLAReminder           = "sla_reminder"            // a finding's SLA is about to be due
	KindSLABreach             = "sla_breach"              // a finding's SLA was breached; escalation
	KindRiskAcceptanceExpired = "risk_acceptance_expired" // risk acceptance expired, finding reopened
)

// Kinds lists every kind with default templates.
var Kinds = []string{KindNewFindings, KindKEVAlert, KindSLAReminder, KindSLABreach, KindRiskAcceptanceExpired}

// Channel names.
const (
	ChannelEmail   = "email"
	ChannelSlack   = "slack"
	ChannelTeams   = "teams"
	ChannelWebhook = "webhook"
	ChannelSMS     = "sms"
)

// Recipient is who a message is for. Each channel uses the field it needs:
// email uses Email, SMS uses Phone; the webhook channels post to the URL of
// their configuration and include the recipient in the payload.
type Recipient struct {
	UserID string `json:"user_id,omitempty"`
	Name   string `json:"name,omitempty"`
	Email  string `json:"email,omitempty"`
	Phone  string `json:"phone,omitempty"` // E.164, e.g. +14155550100
}

// Message is one delivery to one recipient on one channel.
type Message struct {
	// ID is the deterministic delivery id, reused on every retry and after a
	// restart (e.g. derived from the notification id, recipient and channel).
	// Allowed characters: letters, digits, '.', '_', '-' (a UUID fits).
	ID       string
	To       Recipient
	Subject  string
	Text     string // plain text; when empty and Kind is set, rendered from templates
	HTML     string // email only; when empty and Kind is set, rendered from templates
	Severity string // critical, high, medium, low, info
	Kind     string // event kind, selects the templates
	Data     map[string]any
	// Attachments are files the e-mail carries (email only: the chat channels and SMS have no
	// attachments and ignore them; send those a link).
	Attachments []Attachment
}

// Attachment is a file attached to an e-mail.
type Attachment struct {
	Name        string // the file name the recipient sees
	ContentType string // default application/octet-stream
	Data        []byte
}

// Sender delivers a message on one channel. Implementations are safe for
// concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

var (
	_ Sender = (*SMTP)(nil)
	_ Sender = (*Slack)(nil)
	_ Sender = (*Teams)(nil)
	_ Sender = (*Webhook)(nil)
	_ Sender = (*SMS)(nil)
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`)

// validateID checks the delivery id; it becomes a header value and the local
// part of a Message-ID.
func validateID(channel, id string) error {
	if !idPattern.MatchString(id) {
		return &PermanentError{Channel: channel, Err: fmt.Errorf("invalid message id %q: want 1-200 of [A-Za-z0-9._-]", id)}
	}
	return nil
}

// content resolves the subject and body a channel sends: explicit fields win;
// otherwise the channel's template for m.Kind is rendered. rendered reports
// whether the text came from a template (and is therefore already formatted
// for the channel).
func content(t *Templates, channel string, m Message) (r Rendered, rendered bool, err error) {
	if m.Text != "" || m.HTML != "" || m.Kind == "" || t == nil {
		return Rendered{Subject: m.Subject, Text: m.Text, HTML: m.HTML}, false, nil
	}
	r, err = t.Render(channel, m)
	if err != nil {
		return r, false, &PermanentError{Channel: channel, Err: err}
	}
	if m.Subject != "" {
		r.Subject = m.Subject
	}
	return r, true, nil
}
