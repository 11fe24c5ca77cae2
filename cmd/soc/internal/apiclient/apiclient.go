// Package apiclient is the HTTP client of soc's client commands (import, login, users, teams,
// token): one place that resolves the server and the caller's credential, sends JSON, and turns
// a problem+json answer into a typed error.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/schemas/problem"
)

// maxAnswer bounds what the client reads of one answer.
const maxAnswer = 16 << 20

// Client talks to one soc node.
type Client struct {
	base *url.URL
	// Token is the bearer sent with every request ("" sends none): an access token or an API
	// token (soc_pat_…).
	Token string
	HTTP  *http.Client
}

// New returns a client of server, an http(s) URL.
func New(server, token string) (*Client, error) {
	u, err := parseServer(server)
	if err != nil {
		return nil, err
	}
	return &Client{base: u, Token: token, HTTP: &http.Client{Timeout: 5 * time.Minute}}, nil
}

// parseServer checks server is an http(s) URL and returns it without a trailing slash.
func parseServer(server string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--server %q is not an http(s) URL", server)
	}
	return u, nil
}

// Server is the node's base URL.
func (c *Client) Server() string { return c.base.String() }

// Request sends one request for path (which may carry a query) with the client's bearer and
// returns the raw answer.
//
// A 429 or 503 answer that carries a Retry-After of at most maxRetryWait is sent again after that
// wait, up to maxRetries times, when the body can be sent again (none, or one that is read at
// offsets, as a *bytes.Reader or the *io.SectionReader of an import's file; it is sent whole): the
// server answers so only for a request it refused before handling it (rate limit, uploads in
// progress, a full queue, a read model still behind, no upstream), and says when to come back.
// Without it, a command that polls (soc import) or a script of many commands under one token
// fails on the node's default rate limit. A wait that would outlast ctx is not begun: the answer
// is returned as it is.
func (c *Client) Request(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	replay, _ := body.(replayable)
	for attempt := 0; ; attempt++ {
		resp, err := c.send(ctx, method, path, body, contentType)
		if err != nil {
			return nil, err
		}
		wait, again := retryAfter(resp)
		if !again || attempt == maxRetries || (body != nil && replay == nil) {
			return resp, nil
		}
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		resp.Body.Close()
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("waiting %v to send %s %s again after %d: %w", wait, method, path, resp.StatusCode, err)
		}
		if replay != nil {
			// A new reader, never the one sent: the transport may still be reading that one.
			body = io.NewSectionReader(replay, 0, replay.Size())
		}
	}
}

// replayable is a body Request can send again: read at offsets, of a known size.
type replayable interface {
	io.ReaderAt
	Size() int64
}

// maxRetries and maxRetryWait bound Request's retries: a longer Retry-After (a locked sign-in,
// a node shutting down) is the caller's to report, not a reason to hang.
const (
	maxRetries   = 4
	maxRetryWait = time.Minute
)

// retryAfter reports whether resp invites the same request again (429 or 503 with a Retry-After
// in seconds, at most maxRetryWait) and after how long.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After")))
	if err != nil || secs < 0 || time.Duration(secs)*time.Second > maxRetryWait {
		return 0, false
	}
	return time.Duration(secs) * time.Second, true
}

// send sends one request.
func (c *Client) send(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, body)
	if err != nil {
		return nil, err
	}
	if r, ok := body.(*io.SectionReader); ok {
		req.ContentLength = r.Size() // a retry's body, or an import's file: its length is known
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json, "+problem.ContentType)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return c.HTTP.Do(req)
}

// Do sends in (JSON-encoded, nil for no body) and decodes an answer of status want into out
// (nil to discard it). Any other status is a *ProblemError.
func (c *Client) Do(ctx context.Context, method, path string, in any, want int, out any) error {
	var body io.Reader
	ct := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, ct = bytes.NewReader(b), "application/json"
	}
	resp, err := c.Request(ctx, method, path, body, ct)
	if err != nil {
		return err
	}
	return Decode(resp, want, out)
}

// Decode reads resp: out receives an answer of status want; any other status is returned as
// a *ProblemError built from the server's problem document.
func Decode(resp *http.Response, want int, out any) error {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode != want {
		p := &ProblemError{Status: resp.StatusCode}
		if json.Unmarshal(b, p) != nil || p.Title == "" {
			p.Title, p.Detail = http.StatusText(resp.StatusCode), strings.TrimSpace(string(b))
		}
		return p
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("the server's answer is not JSON: %w", err)
	}
	return nil
}

// ProblemError is a refusal the server explained with a problem document (RFC 9457).
type ProblemError struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Field  string `json:"field"`
}

func (p *ProblemError) Error() string {
	msg := fmt.Sprintf("server answered %d: %s", p.Status, p.Title)
	if p.Detail != "" {
		msg += ": " + p.Detail
	}
	if p.Field != "" {
		msg += " (" + p.Field + ")"
	}
	if p.Status == http.StatusUnauthorized {
		msg += " — sign in with `soc login`, or set SOC_TOKEN"
	}
	return msg
}

// ExitCode is the CLI's status for err: 2 for a refusal of the request (4xx), 1 otherwise.
func ExitCode(err error) int {
	var p *ProblemError
	if errors.As(err, &p) && p.Status >= 400 && p.Status < 500 {
		return 2
	}
	return 1
}

// Poll spaces the polls of a job on the server (an import, a report): quickly at first, as a
// small job is done in a moment, then growing to every pollMax, so that a long job does not spend
// the token's rate limit (100 requests a minute by default) on progress. The zero value is ready.
type Poll struct{ wait time.Duration }

// pollMin and pollMax bound the wait between two polls.
const (
	pollMin = 200 * time.Millisecond
	pollMax = 2 * time.Second
)

// Wait waits before the next poll; it returns ctx's error if ctx ends first.
func (p *Poll) Wait(ctx context.Context) error {
	p.wait = min(max(p.wait*3/2, pollMin), pollMax)
	return sleep(ctx, p.wait)
}

// sleep waits d, or returns ctx's error if ctx ends first: the retry wait and the poll share it.
// (commands and query-api each keep their own: the three modules share no utility package.)
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
