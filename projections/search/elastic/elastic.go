// Package elastic is the search index (search.Index, search.Generations) on Elasticsearch
// (7.17 and 8) and on OpenSearch 2.
//
// The index's settings and mappings, the query DSL a search.Request becomes, the bulk bodies and
// the parsing of every answer are written once, against the servers' shared REST API; only the
// HTTP client differs, behind the one-method transport port. Elasticsearch is reached through
// go-elasticsearch v8 and OpenSearch through opensearch-go v4, each server's own maintained
// client (node pool, retries on 502/503/504, authentication). go-elasticsearch v8 refuses any
// answer without the X-Elastic-Product header, which OpenSearch does not send; adding the header
// in a wrapping transport would make the client believe it talks to Elasticsearch and hide a
// misconfiguration (an OpenSearch URL given as Elasticsearch fails loudly at Open instead), so
// Config.Flavor chooses the client.
//
// # Indices, alias, generations
//
// Readers and the projector address the alias (Config.Index, "soc-search" by default); the
// documents live in a concrete index named alias-NNNNNN (alias-000001 first) that the alias points
// to as its write index. Each concrete index is created with its settings and mappings in the
// same request (no index template: the templates of two aliases whose names share a prefix, such
// as the tests' aliases, would overlap and be refused). A rebuild (Generations) creates the next
// number beside the live one, fills it directly, then moves the alias in one atomic
// POST /_aliases and deletes the old index; the live Index writes through the alias and so
// follows the swap.
//
// # Position
//
// The projector's position is a document of its own (id metaID, kind "meta") in the concrete
// index beside the documents, so it travels with that index across an alias swap: a rebuilt
// index brings the position it was built to. It is written with the position as its external
// version, so the highest position always wins. Every search filters on the real kinds, so the
// meta document never appears in a search, a facet or a total.
//
// # Versions and visibility
//
// Documents are indexed with version_type=external_gte and the document's stream version: an
// older document than the indexed one is refused by the server (a 409 item, ignored), an equal
// one replaces it. Write refreshes the index before it returns, so a written document is
// searchable at once.
package elastic

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/opensearch-project/opensearch-go/v4"

	"github.com/socplatform/soc/projections/search"
)

// The flavors: which server (and so which client) Config.URL names.
const (
	FlavorElasticsearch = "elasticsearch"
	FlavorOpenSearch    = "opensearch"
)

// DefaultIndex is the alias the documents are searched through when Config.Index is empty.
const DefaultIndex = "soc-search"

// Config says where the search server is.
type Config struct {
	URL      string // http(s)://host:port of one node
	Username string // basic authentication (optional)
	Password string
	Index    string // the alias (default DefaultIndex)
	Flavor   string // FlavorElasticsearch (default) or FlavorOpenSearch
}

// indexName is what Elasticsearch and OpenSearch accept as an index or alias name, short enough
// that the concrete indices' suffix still fits in 255 bytes.
var indexName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,200}$`)

// Validate reports every problem of c at once. No message quotes the URL: it may hold a password.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("search url: required"))
	} else if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, errors.New("search url: not an http(s)://host:port URL"))
	}
	if c.Index != "" && !indexName.MatchString(c.Index) {
		errs = append(errs, fmt.Errorf("search index %q: lower-case letters, digits, '_', '.' and '-' only, starting with a letter or digit", c.Index))
	}
	switch c.Flavor {
	case "", FlavorElasticsearch, FlavorOpenSearch:
	default:
		errs = append(errs, fmt.Errorf("search flavor %q: want %s or %s", c.Flavor, FlavorElasticsearch, FlavorOpenSearch))
	}
	return errors.Join(errs...)
}

// transport is what the index needs of a client: one HTTP exchange with a node of the cluster
// (the request's URL carries only the path and query).
type transport interface {
	Perform(*http.Request) (*http.Response, error)
}

// newTransport builds the flavor's client. Credentials given in the URL are used when Username
// is empty, and never left in the address the clients log.
func newTransport(c Config) (transport, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, errors.New("search url: not a URL")
	}
	user, pass := c.Username, c.Password
	if u.User != nil {
		if user == "" {
			user = u.User.Username()
			pass, _ = u.User.Password()
		}
		u.User = nil
	}
	addr := u.String()
	if c.Flavor == FlavorOpenSearch {
		return opensearch.NewClient(opensearch.Config{Addresses: []string{addr}, Username: user, Password: pass})
	}
	return elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{addr}, Username: user, Password: pass})
}

// Index is the search index behind one alias (the live index) or one concrete index (a
// generation being built). It is safe for concurrent use.
type Index struct {
	tp     transport
	alias  string // the live alias, also the concrete indices' prefix
	target string // where this Index reads and writes: the alias, or a concrete index
	// bulkBytes bounds a _bulk body (maxBulkBytes; tests lower it).
	bulkBytes int
}

var (
	_ search.Index       = (*Index)(nil)
	_ search.Generations = (*Index)(nil)
)

// Open connects to the server and creates, when missing, the first concrete index with the
// mappings and the alias pointing to it.
func Open(ctx context.Context, cfg Config) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Index == "" {
		cfg.Index = DefaultIndex
	}
	tp, err := newTransport(cfg)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	ix := &Index{tp: tp, alias: cfg.Index, target: cfg.Index, bulkBytes: maxBulkBytes}
	if err := ix.checkFlavor(ctx, cfg.Flavor); err != nil {
		return nil, err
	}
	if err := ix.ensure(ctx); err != nil {
		return nil, err
	}
	return ix, nil
}

// checkFlavor asks the server what it is before anything is written, so that a URL of the other
// server is refused at Open with a message that says so. (go-elasticsearch checks the product
// header only on an answer of 2xx: without this an index would be created before it refused.)
func (ix *Index) checkFlavor(ctx context.Context, flavor string) error {
	var info struct {
		Version struct {
			Number       string `json:"number"`
			Distribution string `json:"distribution"`
		} `json:"version"`
	}
	if flavor == "" {
		flavor = FlavorElasticsearch
	}
	err := ix.do(ctx, http.MethodGet, "/", nil, nil, &info)
	if err == nil && (info.Version.Distribution == FlavorOpenSearch) != (flavor == FlavorOpenSearch) {
		err = fmt.Errorf("it is %s %s", cmp.Or(info.Version.Distribution, FlavorElasticsearch), info.Version.Number)
	}
	if err != nil {
		return fmt.Errorf("search: the server is not the %s the configuration names: %w", flavor, err)
	}
	return nil
}

// ensure creates the first generation behind the alias unless the alias exists.
func (ix *Index) ensure(ctx context.Context) error {
	exists, err := ix.aliasExists(ctx)
	if err != nil || exists {
		return err
	}
	body := indexBody()
	body["aliases"] = map[string]any{ix.alias: map[string]any{"is_write_index": true}}
	err = ix.do(ctx, http.MethodPut, "/"+generationName(ix.alias, 1), nil, body, nil)
	var se *serverError
	if errors.As(err, &se) && se.Type == "resource_already_exists_exception" {
		// Another node opened the same index at the same time: its alias is being added.
		return nil
	}
	return err
}

func (ix *Index) aliasExists(ctx context.Context) (bool, error) {
	err := ix.do(ctx, http.MethodHead, "/_alias/"+ix.alias, nil, nil, nil)
	var se *serverError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return false, nil
	}
	return err == nil, err
}

// generationName is the concrete index of generation n behind alias.
func generationName(alias string, n int) string { return fmt.Sprintf("%s-%06d", alias, n) }

// serverError is an error answer of the server.
type serverError struct {
	Status int
	Type   string // the error's type ("index_not_found_exception", …)
	Reason string
}

func (e *serverError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("search server: HTTP %d", e.Status)
	}
	return fmt.Sprintf("search server: HTTP %d: %s: %s", e.Status, e.Type, e.Reason)
}

// Unwrap makes the answers that say the server cannot serve now (overloaded, starting, no
// shard) search.ErrUnavailable.
func (e *serverError) Unwrap() error {
	if e.Status == http.StatusTooManyRequests || e.Status >= 500 {
		return search.ErrUnavailable
	}
	return nil
}

// do sends one request: body is JSON-encoded unless it is already []byte (a bulk body); out, when
// not nil, receives the decoded answer. Any status but 2xx is a *serverError; a failed exchange
// is search.ErrUnavailable.
func (ix *Index) do(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
		contentType = "application/x-ndjson"
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("search: encode request: %w", err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(ctx, method, "", rd)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	req.URL = &url.URL{Path: path, RawQuery: query.Encode()}
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	res, err := ix.tp.Perform(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %s %s: %w", search.ErrUnavailable, method, path, err)
	}
	defer res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return decodeError(res)
	}
	if out == nil || method == http.MethodHead {
		_, _ = io.Copy(io.Discard, res.Body)
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("%w: %s %s: read answer: %w", search.ErrUnavailable, method, path, err)
	}
	return nil
}

// decodeError reads an error answer: {"error":{"type","reason",…},"status"} (or a bare status).
func decodeError(res *http.Response) error {
	se := &serverError{Status: res.StatusCode}
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if json.Unmarshal(raw, &body) == nil && len(body.Error) > 0 {
		var e struct {
			Type      string `json:"type"`
			Reason    string `json:"reason"`
			RootCause []struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"root_cause"`
		}
		if json.Unmarshal(body.Error, &e) == nil {
			se.Type, se.Reason = e.Type, e.Reason
			if len(e.RootCause) > 0 && e.RootCause[0].Reason != "" && e.RootCause[0].Reason != e.Reason {
				se.Reason += " (" + e.RootCause[0].Type + ": " + e.RootCause[0].Reason + ")"
			}
		} else {
			se.Reason = strings.Trim(string(body.Error), `"`)
		}
	}
	return se
}
