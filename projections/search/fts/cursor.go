package fts

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/socplatform/soc/projections/search"
)

// cursor is the keyset position after the last hit of a page: the request's sort, the hit's
// sort key (one of I, F, S by the sort's type; Null when it has none) and its id. It is sent
// as base64url JSON: opaque to callers, checked when it comes back.
type cursor struct {
	Sort string  `json:"s"`
	Desc bool    `json:"d,omitempty"`
	Null bool    `json:"n,omitempty"`
	I    int64   `json:"i,omitempty"`
	F    float64 `json:"f,omitempty"`
	S    string  `json:"t,omitempty"`
	ID   string  `json:"id"`
}

// maxCursor bounds a cursor's length (a key and an id: a title and a stream id at most).
const maxCursor = 4096

// cursorAt is the cursor after the row with id and sort key k (as SQLite returned it).
func (p *plan) cursorAt(id string, k any) cursor {
	c := cursor{Sort: p.sort.Field, Desc: p.sort.Desc, ID: id}
	switch v := k.(type) {
	case nil:
		c.Null = true
	case int64:
		c.I = v
	case float64:
		c.F = v
	case string:
		c.S = v
	case []byte:
		c.S = string(v)
	}
	return c
}

func (c cursor) encode() string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // plain data: always encodes
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor back and checks that it belongs to a request sorted by s with
// keys of kind ('i', 'f', 's'; 'n' when no row has a key).
func decodeCursor(s string, sort search.Sort, kind byte) (*cursor, error) {
	bad := func(why string) error { return fmt.Errorf("%w: %s", search.ErrBadCursor, why) }
	if len(s) > maxCursor {
		return nil, bad("too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad("not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c cursor
	if err := dec.Decode(&c); err != nil || dec.More() {
		return nil, bad("not a cursor")
	}
	switch {
	case c.ID == "":
		return nil, bad("no id")
	case c.Sort != sort.Field || c.Desc != sort.Desc:
		return nil, bad("from a request sorted otherwise")
	case kind == 'n' && !c.Null:
		return nil, bad("a key where none is sorted by")
	case !c.Null && ((kind != 'i' && c.I != 0) || (kind != 'f' && c.F != 0) || (kind != 's' && c.S != "")):
		return nil, bad("a key of another type")
	}
	return &c, nil
}
