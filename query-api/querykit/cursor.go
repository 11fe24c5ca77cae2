package querykit

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"

	"github.com/socplatform/soc/projections/readkit"
)

// A cursor is opaque to clients: base64url (no padding) of a small JSON object holding
//
//	k  the read model's keyset position (readkit.Key) after the last row returned,
//	s  the sort it was issued under ("-severity"),
//	f  a hash of the resource and its parsed filters.
//
// A cursor presented with another sort or other filters is refused (400 naming cursor): paging
// on with a different query would skip or repeat rows silently. The limit may change from page
// to page. Cursors are not signed: forging one only moves the keyset position of a query the
// caller could run anyway, and the read model validates the key it is given.
type cursor struct {
	K readkit.Key `json:"k"`
	S string      `json:"s"`
	F string      `json:"f"`
}

// filterHash hashes what defines a query apart from paging. filters must marshal
// deterministically: the parsed Query structs with their List and clock fields cleared, lists
// sorted and times in UTC.
func filterHash(resource string, filters any) string {
	b, err := json.Marshal(filters)
	if err != nil {
		panic(err) // plain structs of strings, numbers and times
	}
	h := sha256.New()
	h.Write([]byte(resource))
	h.Write([]byte{0})
	h.Write(b)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// cursorParam reads the cursor parameter and checks it belongs to this query.
func (p *Params) cursor(sort, hash string) *readkit.Key {
	v, ok := p.q["cursor"]
	if !ok {
		return nil
	}
	if len(v) != 1 || v[0] == "" || len(v[0]) > maxCursorLen {
		p.Add("cursor", "must be given once, as returned in next_cursor")
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(v[0])
	if err != nil {
		p.Add("cursor", "is malformed; pass next_cursor back unchanged")
		return nil
	}
	var c cursor
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.K.ID == "" || c.F == "" || dec.More() {
		p.Add("cursor", "is malformed; pass next_cursor back unchanged")
		return nil
	}
	if c.S != sort {
		p.Add("cursor", fmt.Sprintf("was issued for sort %s, not %s; start again without a cursor", c.S, sort))
		return nil
	}
	if c.F != hash {
		p.Add("cursor", "was issued for other filters; start again without a cursor")
		return nil
	}
	return &c.K
}

// sortParam returns the sort field and direction: "field" ascending, "-field" descending,
// the first of allowed descending when absent. canon is the "-field"/"field" form.
func (p *Params) sort(allowed []string) (field string, desc bool, canon string) {
	field, desc = allowed[0], true
	if v, ok := p.One("sort"); ok {
		f, d := v, false
		if f[0] == '-' {
			f, d = f[1:], true
		}
		if !slices.Contains(allowed, f) {
			p.Add("sort", fmt.Sprintf("%q is not a sort field; use one of %v, with - for descending", f, allowed))
		} else {
			field, desc = f, d
		}
	}
	canon = field
	if desc {
		canon = "-" + field
	}
	return field, desc, canon
}

// NextURL is the request's path and query with the parameters in set set (the next page's
// cursor or position), and those in drop dropped (for a list, the read-your-writes parameters:
// the position they asked for is reached by now).
func (p *Params) NextURL(set map[string]string, drop ...string) string {
	out := url.Values{}
	for k, v := range p.q {
		out[k] = v
	}
	for _, k := range drop {
		delete(out, k)
	}
	for k, v := range set {
		out.Set(k, v)
	}
	return p.r.URL.Path + "?" + out.Encode()
}
