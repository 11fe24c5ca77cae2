package xmlscan

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
)

// Guard is what every token of an XML report passes, whichever decoder reads it (the Scanner's
// token loop, or nmap's xml.NewTokenDecoder chain that DecodeElement reads through): the context
// is checked, element nesting is bounded and DTDs declaring entities are refused (encoding/xml
// never expands them; a report that declares them is not one a scanner wrote). Its errors carry
// no position: the caller knows where its decoder is.
type Guard struct {
	Ctx      context.Context
	MaxDepth int
	depth    int
	n        int
}

// errEntity is the refusal of a DTD that declares entities.
var errEntity = errors.New("DTD entity declarations are refused")

// Tick counts a token about to be read and, every 256th, returns the context's error: often
// enough to stop an endless stream soon, rarely enough to cost nothing.
func (g *Guard) Tick() error {
	g.n++
	if g.n&255 == 0 {
		return g.Ctx.Err()
	}
	return nil
}

// Check tracks the nesting of tok, the token just read, and refuses it when it nests too deep or
// declares entities.
func (g *Guard) Check(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		g.depth++
		if g.depth > g.MaxDepth {
			return fmt.Errorf("elements nested deeper than %d", g.MaxDepth)
		}
	case xml.EndElement:
		g.depth--
	case xml.Directive:
		up := bytes.ToUpper(t)
		if bytes.Contains(up, []byte("<!ENTITY")) || bytes.HasPrefix(bytes.TrimSpace(up), []byte("ENTITY")) {
			return errEntity
		}
	}
	return nil
}

// Depth is the number of elements open after the last token checked.
func (g *Guard) Depth() int { return g.depth }
