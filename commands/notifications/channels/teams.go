package channels

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"strings"
)

// TeamsConfig configures a Microsoft Teams incoming webhook (an Office 365
// connector URL or a Workflows "post to a channel when a webhook request is
// received" URL; both accept the same Adaptive Card message); WebhookURL is
// read from SOC_TEAMS_WEBHOOK_URL. The URL is the credential: String never
// prints its path or query.
type TeamsConfig IncomingWebhookConfig

// RegisterFlags declares the Teams channel's setting. The URL is the credential, so it is
// treated as a secret (never shown, also read from a file).
func (c *TeamsConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.Var(secretFlag{&c.WebhookURL}, "teams-webhook-url", "Teams channel: incoming-webhook URL; empty: no Teams")
}

// Configured reports whether the channel should be used at all.
func (c TeamsConfig) Configured() bool { return IncomingWebhookConfig(c).configured() }

// Validate reports every problem at once.
func (c TeamsConfig) Validate() error {
	return IncomingWebhookConfig(c).validate("teams", "SOC_TEAMS_WEBHOOK_URL")
}

func (c TeamsConfig) String() string { return IncomingWebhookConfig(c).describe("TeamsConfig") }

// Teams posts Adaptive Card messages to a Teams incoming webhook.
type Teams struct{ incomingWebhook }

// NewTeams validates the config and returns the sender.
func NewTeams(cfg TeamsConfig) (*Teams, error) {
	w, err := newIncomingWebhook(IncomingWebhookConfig(cfg), cfg.Validate)
	if err != nil {
		return nil, err
	}
	return &Teams{w}, nil
}

// TeamsMessage is the webhook body: a message with one Adaptive Card.
type TeamsMessage struct {
	Type        string            `json:"type"` // "message"
	Attachments []TeamsAttachment `json:"attachments"`
}

// TeamsAttachment wraps the card.
type TeamsAttachment struct {
	ContentType string       `json:"contentType"` // application/vnd.microsoft.card.adaptive
	ContentURL  *string      `json:"contentUrl"`  // always null
	Content     AdaptiveCard `json:"content"`
}

// AdaptiveCard is the subset of Adaptive Cards 1.4 the channel emits.
type AdaptiveCard struct {
	Schema  string           `json:"$schema"`
	Type    string           `json:"type"` // "AdaptiveCard"
	Version string           `json:"version"`
	Body    []map[string]any `json:"body"`
	MSTeams map[string]any   `json:"msteams,omitempty"`
}

// Adaptive card constants.
const (
	AdaptiveCardContentType = "application/vnd.microsoft.card.adaptive"
	adaptiveCardSchema      = "http://adaptivecards.io/schemas/adaptive-card.json"
)

// BuildTeamsMessage renders the payload Send posts.
func (t *Teams) BuildTeamsMessage(m Message) (TeamsMessage, error) {
	r, _, err := content(t.templates, ChannelTeams, m)
	if err != nil {
		return TeamsMessage{}, err
	}
	color := "Default"
	switch strings.ToLower(m.Severity) {
	case "critical", "high":
		color = "Attention"
	case "medium":
		color = "Warning"
	}
	var body []map[string]any
	if s := oneLine(r.Subject); s != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": s, "size": "Large", "weight": "Bolder", "wrap": true, "color": color, "style": "heading"})
	}
	if txt := strings.TrimSpace(r.Text); txt != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": txt, "wrap": true})
	}
	var facts []map[string]any
	if m.Severity != "" {
		facts = append(facts, map[string]any{"title": "Severity", "value": m.Severity})
	}
	facts = append(facts, map[string]any{"title": "Delivery", "value": m.ID})
	body = append(body, map[string]any{"type": "FactSet", "facts": facts})
	return TeamsMessage{
		Type: "message",
		Attachments: []TeamsAttachment{{
			ContentType: AdaptiveCardContentType,
			Content: AdaptiveCard{
				Schema:  adaptiveCardSchema,
				Type:    "AdaptiveCard",
				Version: "1.4",
				Body:    body,
				MSTeams: map[string]any{"width": "Full"},
			},
		}},
	}, nil
}

// Send posts m. Office 365 connectors answer 200 "1"; Workflows answer 202.
// Connectors are known to report throttling as a 200 whose body says
// "Microsoft Teams endpoint returned HTTP error 429": that is treated as a
// transient failure.
func (t *Teams) Send(ctx context.Context, m Message) error {
	resp, err := t.send(ctx, ChannelTeams, m, func(m Message) (any, error) { return t.BuildTeamsMessage(m) })
	if err != nil {
		return err
	}
	if s := string(resp); strings.Contains(s, "HTTP error 429") {
		return &TransientError{Channel: ChannelTeams, Code: http.StatusTooManyRequests, Err: fmt.Errorf("throttled: %s", truncateRunes(s, 200))}
	}
	return nil
}
