package app

import (
	"context"
	"errors"

	"github.com/socplatform/soc/commands/notifications/channels"
)

// ErrNoSession is what the WebSocket channel answers when the recipient has no open session:
// nobody to deliver to now. The worker records the notification as held (NotificationHeld), not
// sent and not retried: it waits unread in the recipient's inbox (GET /v1/notifications), which
// a client lists when it connects. Pushing it later on connect is not done: the inbox is the
// one place that keeps it.
var ErrNoSession = errors.New("the recipient has no open WebSocket session; the notification waits in their inbox")

// sessions are the open /v1/notifications/ws sessions, by user (query-api/ws.Hub).
type sessions interface {
	SendTo(user string, v any) (int, error)
}

// WebSocketSender is the "websocket" channel: it pushes the rendered notification to every open
// session of the recipient on /v1/notifications/ws.
type WebSocketSender struct {
	Sessions  sessions
	Templates *channels.Templates // renders messages that carry only template data
}

// NewWebSocketSender returns the channel over s.
func NewWebSocketSender(s sessions, tmpl *channels.Templates) WebSocketSender {
	return WebSocketSender{Sessions: s, Templates: tmpl}
}

// Send implements channels.Sender.
func (s WebSocketSender) Send(_ context.Context, m channels.Message) error {
	if m.To.UserID == "" {
		return &channels.PermanentError{Channel: ChannelWebSocket, Err: errors.New("the recipient has no user id")}
	}
	subject, text, err := renderForInbox(s.Templates, m)
	if err != nil {
		return &channels.PermanentError{Channel: ChannelWebSocket, Err: err}
	}
	n, err := s.Sessions.SendTo(m.To.UserID, map[string]any{"type": "notification", "id": m.ID, "kind": m.Kind,
		"severity": m.Severity, "subject": subject, "text": text, "data": m.Data})
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNoSession
	}
	return nil
}

// renderForInbox is the subject and text of m as the in-app surfaces (the WebSocket push, the
// inbox) show it: as given, or rendered from the templates of its kind (the webhook's, plain
// text) when it carries only template data.
func renderForInbox(tmpl *channels.Templates, m channels.Message) (subject, text string, err error) {
	subject, text = m.Subject, m.Text
	if text == "" && m.Kind != "" && tmpl != nil {
		r, err := tmpl.Render(channels.ChannelWebhook, m)
		if err != nil {
			return "", "", err
		}
		subject, text = r.Subject, r.Text
	}
	return subject, text, nil
}
