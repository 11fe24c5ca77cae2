package channels

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// IncomingWebhookConfig is what a chat service's incoming webhook needs (SlackConfig and
// TeamsConfig have it as their underlying type): the URL itself is the credential, so String
// never prints its path or query.
type IncomingWebhookConfig struct {
	WebhookURL string        // SOC_SLACK_WEBHOOK_URL, SOC_TEAMS_WEBHOOK_URL
	Timeout    time.Duration // per attempt; default DefaultHTTPTimeout
	HTTPClient *http.Client  // optional; overrides Timeout
	Templates  *Templates    // optional; default DefaultTemplates()
}

func (c IncomingWebhookConfig) configured() bool { return c.WebhookURL != "" }

func (c IncomingWebhookConfig) validate(channel, env string) error {
	return problemsError(channel, validateEndpoint(env, c.WebhookURL))
}

func (c IncomingWebhookConfig) describe(typeName string) string {
	return fmt.Sprintf("%s{WebhookURL:%s Timeout:%s}", typeName, redactURL(c.WebhookURL), c.Timeout)
}

// incomingWebhook posts JSON bodies to an incoming-webhook URL; Slack and Teams differ only in
// the body they build and in how they read the answer.
type incomingWebhook struct {
	url       string
	client    *http.Client
	templates *Templates
}

// newIncomingWebhook validates cfg with validate and returns the poster.
func newIncomingWebhook(cfg IncomingWebhookConfig, validate func() error) (incomingWebhook, error) {
	if err := validate(); err != nil {
		return incomingWebhook{}, err
	}
	return incomingWebhook{url: cfg.WebhookURL, client: newHTTPClient(cfg.HTTPClient, cfg.Timeout), templates: orDefault(cfg.Templates)}, nil
}

// send checks m's id, posts the body build renders from m and returns the response body.
func (w incomingWebhook) send(ctx context.Context, channel string, m Message, build func(Message) (any, error)) ([]byte, error) {
	if err := validateID(channel, m.ID); err != nil {
		return nil, err
	}
	payload, err := build(m)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, &PermanentError{Channel: channel, Err: err}
	}
	return post(ctx, w.client, channel, w.url, "application/json", body, nil)
}
