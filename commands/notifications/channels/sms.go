package channels

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// MaxSMSBody is the longest body Twilio accepts (characters).
const MaxSMSBody = 1600

// DefaultTwilioBaseURL is Twilio's API root.
const DefaultTwilioBaseURL = "https://api.twilio.com"

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// ValidE164 reports whether s is an E.164 number: '+', then 2 to 15 digits,
// not starting with 0.
func ValidE164(s string) bool { return e164.MatchString(s) }

// SMSConfig configures a Twilio-compatible Messages API.
type SMSConfig struct {
	BaseURL    string        // SOC_SMS_URL; default DefaultTwilioBaseURL
	AccountSID string        // SOC_SMS_ACCOUNT_SID
	AuthToken  string        // SOC_SMS_AUTH_TOKEN; never printed
	From       string        // SOC_SMS_FROM, E.164
	Timeout    time.Duration // per attempt; default DefaultHTTPTimeout
	HTTPClient *http.Client  // optional; overrides Timeout
	Templates  *Templates    // optional; default DefaultTemplates()
}

// RegisterFlags declares the SMS channel's settings. The channel stays off unless
// --sms-account-sid is set.
func (c *SMSConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.BaseURL, "sms-url", "", "SMS channel: root of the Twilio-compatible Messages API; empty: "+DefaultTwilioBaseURL)
	fs.StringVar(&c.AccountSID, "sms-account-sid", "", "SMS channel: account SID; empty: no SMS")
	fs.Var(secretFlag{&c.AuthToken}, "sms-auth-token", "SMS channel: auth token")
	fs.StringVar(&c.From, "sms-from", "", "SMS channel: sender number, E.164 (+14155550100)")
}

// Configured reports whether the channel should be used at all.
func (c SMSConfig) Configured() bool { return c.AccountSID != "" }

func (c SMSConfig) baseURL() string {
	if c.BaseURL == "" {
		return DefaultTwilioBaseURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

// Validate reports every problem at once.
func (c SMSConfig) Validate() error {
	problems := validateEndpoint("SOC_SMS_URL", c.baseURL())
	if c.AccountSID == "" {
		problems = append(problems, "SOC_SMS_ACCOUNT_SID: required")
	} else if strings.ContainsAny(c.AccountSID, "/?#% ") {
		problems = append(problems, "SOC_SMS_ACCOUNT_SID: invalid characters")
	}
	if c.AuthToken == "" {
		problems = append(problems, "SOC_SMS_AUTH_TOKEN: required")
	}
	if !ValidE164(c.From) {
		problems = append(problems, "SOC_SMS_FROM: must be an E.164 number such as +14155550100")
	}
	return problemsError("sms", problems)
}

func (c SMSConfig) String() string {
	return fmt.Sprintf("SMSConfig{BaseURL:%s AccountSID:%s AuthToken:%s From:%s Timeout:%s}", c.baseURL(), c.AccountSID, redactSecret(c.AuthToken), c.From, c.Timeout)
}

// SMS sends text messages through a Twilio-compatible REST API:
// POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded
// To, From, Body, HTTP basic auth AccountSid:AuthToken.
type SMS struct {
	endpoint  string
	sid       string
	token     string
	from      string
	client    *http.Client
	templates *Templates
}

// NewSMS validates the config and returns the sender.
func NewSMS(cfg SMSConfig) (*SMS, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &SMS{
		endpoint:  cfg.baseURL() + "/2010-04-01/Accounts/" + url.PathEscape(cfg.AccountSID) + "/Messages.json",
		sid:       cfg.AccountSID,
		token:     cfg.AuthToken,
		from:      cfg.From,
		client:    newHTTPClient(cfg.HTTPClient, cfg.Timeout),
		templates: orDefault(cfg.Templates),
	}, nil
}

// BuildSMSBody renders the text sent, at most MaxSMSBody characters.
func (s *SMS) BuildSMSBody(m Message) (string, error) {
	r, _, err := content(s.templates, ChannelSMS, m)
	if err != nil {
		return "", err
	}
	body := strings.TrimSpace(r.Text)
	if body == "" {
		body = oneLine(r.Subject)
	}
	if body == "" {
		return "", &PermanentError{Channel: ChannelSMS, Err: errors.New("empty message")}
	}
	if len([]rune(body)) > MaxSMSBody {
		body = truncateRunes(body, MaxSMSBody-1) + "…"
	}
	return body, nil
}

// twilioError is Twilio's error body.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// Send posts one message. Twilio answers 201 with the message resource.
func (s *SMS) Send(ctx context.Context, m Message) error {
	if err := validateID(ChannelSMS, m.ID); err != nil {
		return err
	}
	if !ValidE164(m.To.Phone) {
		return &PermanentError{Channel: ChannelSMS, Err: fmt.Errorf("recipient phone %q is not E.164", m.To.Phone)}
	}
	body, err := s.BuildSMSBody(m)
	if err != nil {
		return err
	}
	form := url.Values{"To": {m.To.Phone}, "From": {s.from}, "Body": {body}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return &PermanentError{Channel: ChannelSMS, Err: err}
	}
	req.SetBasicAuth(s.sid, s.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := s.client.Do(req)
	if err != nil {
		return classifyTransport(ChannelSMS, redactURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	var te twilioError
	_ = json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 64<<10)).Decode(&te)
	detail := te.Message
	if te.Code != 0 {
		detail = fmt.Sprintf("twilio error %d: %s", te.Code, te.Message)
	}
	return classifyHTTP(ChannelSMS, resp, detail, time.Now())
}
