package channels

import (
	"context"
	"flag"
	"strings"
)

// SlackConfig configures a Slack incoming webhook
// (https://api.slack.com/messaging/webhooks); WebhookURL is read from
// SOC_SLACK_WEBHOOK_URL. The URL itself is the credential: String never
// prints its path.
type SlackConfig IncomingWebhookConfig

// RegisterFlags declares the Slack channel's setting. The URL is the credential, so it is
// treated as a secret (never shown, also read from a file).
func (c *SlackConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.Var(secretFlag{&c.WebhookURL}, "slack-webhook-url", "Slack channel: incoming-webhook URL; empty: no Slack")
}

// Configured reports whether the channel should be used at all.
func (c SlackConfig) Configured() bool { return IncomingWebhookConfig(c).configured() }

// Validate reports every problem at once.
func (c SlackConfig) Validate() error {
	return IncomingWebhookConfig(c).validate("slack", "SOC_SLACK_WEBHOOK_URL")
}

func (c SlackConfig) String() string { return IncomingWebhookConfig(c).describe("SlackConfig") }

// Slack posts messages to a Slack incoming webhook.
type Slack struct{ incomingWebhook }

// NewSlack validates the config and returns the sender.
func NewSlack(cfg SlackConfig) (*Slack, error) {
	w, err := newIncomingWebhook(IncomingWebhookConfig(cfg), cfg.Validate)
	if err != nil {
		return nil, err
	}
	return &Slack{w}, nil
}

// Slack Block Kit limits.
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
	slackMaxBlocks  = 50
)

// SlackPayload is the incoming-webhook body.
type SlackPayload struct {
	Text   string       `json:"text"`
	Blocks []SlackBlock `json:"blocks,omitempty"`
}

// SlackBlock is a Block Kit block (header, section, context).
type SlackBlock struct {
	Type     string       `json:"type"`
	Text     *SlackText   `json:"text,omitempty"`
	Elements []*SlackText `json:"elements,omitempty"`
}

// SlackText is a composition text object.
type SlackText struct {
	Type  string `json:"type"` // plain_text or mrkdwn
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// EscapeMrkdwn escapes the three characters Slack's mrkdwn gives meaning to
// in text: &, < and >.
func EscapeMrkdwn(s string) string {
	return mrkdwnReplacer.Replace(s)
}

var mrkdwnReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// BuildSlackPayload renders the payload Send posts.
func (s *Slack) BuildSlackPayload(m Message) (SlackPayload, error) {
	r, fromTemplate, err := content(s.templates, ChannelSlack, m)
	if err != nil {
		return SlackPayload{}, err
	}
	body := r.Text
	if !fromTemplate {
		body = EscapeMrkdwn(body) // templates escape their data with {{mrkdwn}}
	}
	subject := oneLine(r.Subject)
	var p SlackPayload
	// text is the notification/fallback text; mrkdwn.
	p.Text = EscapeMrkdwn(subject)
	if p.Text == "" {
		p.Text = truncateRunes(body, slackSectionMax)
	}
	if subject != "" {
		p.Blocks = append(p.Blocks, SlackBlock{Type: "header", Text: &SlackText{Type: "plain_text", Text: truncateRunes(subject, slackHeaderMax), Emoji: true}})
	}
	for _, chunk := range splitText(body, slackSectionMax) {
		if len(p.Blocks) == slackMaxBlocks-1 {
			break
		}
		p.Blocks = append(p.Blocks, SlackBlock{Type: "section", Text: &SlackText{Type: "mrkdwn", Text: chunk}})
	}
	var ctx []string
	if m.Severity != "" {
		ctx = append(ctx, "Severity: *"+EscapeMrkdwn(m.Severity)+"*")
	}
	ctx = append(ctx, "Delivery `"+EscapeMrkdwn(m.ID)+"`")
	p.Blocks = append(p.Blocks, SlackBlock{Type: "context", Elements: []*SlackText{{Type: "mrkdwn", Text: strings.Join(ctx, " · ")}}})
	return p, nil
}

// Send posts m to the webhook. Slack answers 200 "ok"; 4xx bodies name the
// problem (invalid_payload, channel_not_found, …); 429 carries Retry-After.
func (s *Slack) Send(ctx context.Context, m Message) error {
	_, err := s.send(ctx, ChannelSlack, m, func(m Message) (any, error) { return s.BuildSlackPayload(m) })
	return err
}

// splitText cuts s into pieces of at most n runes, preferring line breaks.
func splitText(s string, n int) []string {
	s = strings.TrimSpace(s)
	var out []string
	for s != "" {
		piece := truncateRunes(s, n)
		if len(piece) < len(s) {
			if i := strings.LastIndexByte(piece, '\n'); i > 0 {
				piece = piece[:i]
			} else if i := strings.LastIndexByte(piece, '&'); i > 0 && !strings.Contains(piece[i:], ";") {
				piece = piece[:i] // do not cut an escaped &amp; / &lt; / &gt; in two
			}
		}
		out = append(out, piece)
		s = strings.TrimLeft(s[len(piece):], "\n")
	}
	return out
}

// oneLine removes line breaks (subjects, headers).
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func orDefault(t *Templates) *Templates {
	if t != nil {
		return t
	}
	return DefaultTemplates()
}
