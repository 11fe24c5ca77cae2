package parseutil

import (
	"context"
	"io"

	"github.com/socplatform/soc/commands/scans/importers"
)

// Format is the importers.Parser and importers.Describer of a format whose parser keeps no
// settings: its name and the functions that recognise, read and describe its reports. Such
// parsers would otherwise each declare an empty type only to hang the same four methods on it.
type Format struct {
	Name     string
	Sniff    func(head []byte) bool                                            // Detect
	Read     func(ctx context.Context, r io.Reader) (*importers.Report, error) // Parse
	Describe func() importers.FormatInfo                                       // Info
}

// Format implements importers.Parser.
func (f *Format) Format() string { return f.Name }

// Detect implements importers.Parser.
func (f *Format) Detect(head []byte) bool { return f.Sniff(head) }

// Parse implements importers.Parser.
func (f *Format) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	return f.Read(ctx, r)
}

// Info implements importers.Describer.
func (f *Format) Info() importers.FormatInfo { return f.Describe() }
