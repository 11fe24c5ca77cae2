package channels

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// DefaultHTTPTimeout bounds one HTTP delivery attempt when the config gives none.
const DefaultHTTPTimeout = 10 * time.Second

const userAgent = "soc-platform-notifications/1"

// newHTTPClient returns c, or a client with the timeout that never follows
// redirects: a webhook answering 3xx is misconfigured, and following it would
// re-post the payload (and its credentials) somewhere else.
func newHTTPClient(c *http.Client, timeout time.Duration) *http.Client {
	if c != nil {
		return c
	}
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// post sends one request and classifies the outcome. It returns the response
// body (at most 64 KiB) for 2xx answers.
func post(ctx context.Context, client *http.Client, channel, endpoint, contentType string, body []byte, header http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, &PermanentError{Channel: channel, Err: fmt.Errorf("build request: %w", redactURLError(err))}
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		return nil, classifyTransport(channel, redactURLError(err))
	}
	defer resp.Body.Close()
	respBody, readErr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, classifyHTTP(channel, resp, truncateRunes(string(respBody), 512), time.Now())
	}
	if readErr != nil {
		// The server answered 2xx; the delivery happened.
		return nil, nil
	}
	return respBody, nil
}

// redactURLError strips the URL from *url.Error: webhook URLs of Slack and
// Teams are credentials.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, redactURL(ue.URL), ue.Err)
	}
	return err
}

// redactSecret is what a config's String prints for a secret: whether it is set, never its value.
func redactSecret(s string) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// redactURL keeps scheme and host; path and query of an incoming webhook URL
// are its secret.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "[redacted]"
	}
	s := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		s += "/[redacted]"
	}
	return s
}

// validateEndpoint checks a webhook URL: https, or http to a loopback host.
func validateEndpoint(field, raw string) []string {
	if raw == "" {
		return []string{field + ": required"}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return []string{field + ": not a URL"}
	}
	var problems []string
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			problems = append(problems, field+": http is only allowed for loopback hosts; use https")
		}
	default:
		problems = append(problems, field+": scheme must be https")
	}
	if u.Host == "" {
		problems = append(problems, field+": host missing")
	}
	if u.User != nil {
		problems = append(problems, field+": must not carry user info")
	}
	return problems
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func truncateRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// problemsError joins config problems into one error listing all of them.
func problemsError(what string, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = errors.New(p)
	}
	return fmt.Errorf("%s config: %w", what, errors.Join(errs...))
}
