// Package channels is the delivery layer of notifications: one real client per
// channel, each behind the same small interface.
//
//	Sender.Send(ctx, Message) error
//
// Channels:
//
//   - Email over SMTP (github.com/emersion/go-smtp client, AUTH PLAIN through
//     github.com/emersion/go-sasl, STARTTLS required when configured, credentials
//     never sent over plaintext unless explicitly allowed for a loopback server).
//     Every message carries "Message-ID: <ID@soc-platform>", so a resend of the
//     same delivery can be deduplicated by the receiver.
//   - Slack incoming webhooks ({"text":…, "blocks":[…]}).
//   - Microsoft Teams incoming webhooks (a message with an Adaptive Card 1.4
//     attachment).
//   - Generic webhooks signed with HMAC-SHA256 (X-SOC-Delivery, X-SOC-Timestamp,
//     X-SOC-Signature: v1=<hex>), verified by receivers with VerifyWebhook.
//   - SMS through a Twilio-compatible REST API.
//
// Errors are classified: a *PermanentError must not be retried (4xx other
// than 408/429, refused authentication, bad address, policy violations); all
// other errors are transient. Retryable reports which, and for how long the
// server asked us to wait (Retry-After).
//
// Message.ID is the delivery id: deterministic, reused on every retry and after
// a restart. It becomes the SMTP Message-ID and the X-SOC-Delivery header, so
// the one unavoidable resend (process killed after the server accepted but
// before the send was recorded) can be recognised by the receiver. Slack,
// Teams and Twilio offer no deduplication key on their incoming APIs; a resend
// there is visible to the user.
//
// Content comes either from the message itself (Subject/Text/HTML, treated as
// plain text and escaped per channel) or, when Text is empty and Kind is set,
// from the channel's templates for that kind (see Templates and LoadTemplates).
//
// Testing: the SMTP tests run a real SMTP server (go-smtp) in the test
// process, with STARTTLS on a freshly generated self-signed certificate and
// AUTH PLAIN. Slack's, Microsoft's and Twilio's servers cannot run here: their
// tests use httptest receivers that parse the documented payload formats and
// answer like those services do (status codes, Retry-After). They are fakes of
// third-party servers, not of our code.
package channels
