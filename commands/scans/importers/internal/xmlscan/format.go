package xmlscan

import (
	"context"
	"encoding/xml"
	"io"

	"github.com/socplatform/soc/commands/scans/importers"
)

// Format is the importers.Parser and importers.Describer of an XML report format whose parser
// keeps no settings: its name, how its document element (or its other encoding) is recognised,
// and the functions that read and describe its reports. Such parsers would otherwise each declare
// an empty type to hang the same four methods on, and each find the document element of the head
// themselves.
type Format struct {
	Name string
	// Root reports whether an XML document whose document element is root is of this format;
	// head is the start of the file, as Detect got it.
	Root func(root xml.StartElement, head []byte) bool
	// Other reports whether a head that does not start as an XML document is of this format
	// (its CSV or JSON export); nil when the format has none.
	Other    func(head []byte) bool
	Read     func(ctx context.Context, r io.Reader) (*importers.Report, error)
	Describe func() importers.FormatInfo
}

// Format implements importers.Parser.
func (f *Format) Format() string { return f.Name }

// Detect implements importers.Parser: Root decides for an XML head, Other for any other.
func (f *Format) Detect(head []byte) bool {
	if root, ok := RootElement(head); ok {
		return f.Root(root, head)
	}
	return f.Other != nil && f.Other(head)
}

// Parse implements importers.Parser.
func (f *Format) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	return f.Read(ctx, r)
}

// Info implements importers.Describer.
func (f *Format) Info() importers.FormatInfo { return f.Describe() }
