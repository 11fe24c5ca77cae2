package render

import (
	"io"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// PDF page geometry (A4 portrait, millimetres) and type sizes (points).
const (
	pageW, pageH   = 210.0, 297.0
	marginX        = 15.0
	marginTop      = 18.0
	marginBottom   = 18.0
	contentW       = pageW - 2*marginX
	bandH          = 26.0 // the branding band on the title page
	tileH          = 22.0
	tileGap        = 4.0
	tilesPerRow    = 4
	chartH         = 80.0
	rowH           = 5.0
	cellPad        = 1.2
	tableFontSize  = 8.0
	minColW        = 12.0
	maxColW        = 80.0
	colWidthSample = 300 // rows measured for column widths
	fontFamily     = "Helvetica"
	pageAlias      = "{nb}"
)

var (
	ink      = rgb{0x21, 0x21, 0x21}
	muted    = rgb{0x61, 0x61, 0x61}
	rule     = rgb{0xBD, 0xBD, 0xBD}
	grid     = rgb{0xE0, 0xE0, 0xE0}
	zebra    = rgb{0xF5, 0xF5, 0xF5}
	tileFill = rgb{0xF2, 0xF4, 0xF7}
)

// PDFRenderer writes an A4 PDF: a title block in the accent colour, then each section — its
// heading and text, its figures as tiles, its chart drawn as a real chart, its table with the
// header repeated on every page — and a footer "Page N of M" on every page.
type PDFRenderer struct {
	// MaxRows bounds each table's rows (0: MaxPDFRows); the rows left out are counted on a
	// line under the table.
	MaxRows int
}

// Format implements Renderer.
func (PDFRenderer) Format() Format { return PDF }

// pdfDoc is one PDF being written.
type pdfDoc struct {
	pdf     *fpdf.Fpdf
	d       *Document
	loc     *time.Location
	accent  rgb
	tr      func(string) string
	known   map[rune]bool // non-ASCII runes cp1252 holds (asked of the translator once each)
	maxRows int
}

// Render implements Renderer.
func (r PDFRenderer) Render(w io.Writer, d *Document) error {
	if d == nil {
		return ErrNoDocument
	}
	p := &pdfDoc{pdf: fpdf.New("P", "mm", "A4", ""), d: d, loc: d.location(), accent: d.accent(), known: map[rune]bool{}, maxRows: r.MaxRows}
	if p.maxRows <= 0 || p.maxRows > MaxPDFRows {
		p.maxRows = MaxPDFRows
	}
	pdf := p.pdf
	p.tr = pdf.UnicodeTranslatorFromDescriptor("cp1252")
	pdf.SetMargins(marginX, marginTop, marginX)
	pdf.SetAutoPageBreak(true, marginBottom)
	pdf.AliasNbPages(pageAlias)
	pdf.SetCatalogSort(true) // with the dates below: the same document gives the same bytes
	if !d.GeneratedAt.IsZero() {
		pdf.SetCreationDate(d.GeneratedAt)
		pdf.SetModificationDate(d.GeneratedAt)
	}
	pdf.SetTitle(d.Title, true)
	pdf.SetAuthor(d.Branding.Organisation, true)
	pdf.SetCreator("SOC Platform", true)
	pdf.SetHeaderFunc(p.header)
	pdf.SetFooterFunc(p.footer)

	pdf.AddPage()
	p.titleBlock()
	for i := range d.Sections {
		if err := p.section(&d.Sections[i]); err != nil {
			return err
		}
		if pdf.Err() {
			break
		}
	}
	return pdf.Output(w) // reports fpdf's first error, if any
}

// text makes s writable in a core font: cp1252 through fpdf's translator, a rune cp1252 lacks
// as "?" (the translator would write "."), control characters as spaces.
func (p *pdfDoc) text(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c < 0x20 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7F:
			return ' '
		case r < 0x80:
			return r
		}
		ok, seen := p.known[r]
		if !seen {
			ok = p.tr(string(r)) != "."
			p.known[r] = ok
		}
		if !ok {
			return '?'
		}
		return r
	}, s)
	return p.tr(s)
}

func (p *pdfDoc) color(c rgb) { p.pdf.SetTextColor(c.r, c.g, c.b) }
func (p *pdfDoc) fill(c rgb)  { p.pdf.SetFillColor(c.r, c.g, c.b) }
func (p *pdfDoc) draw(c rgb)  { p.pdf.SetDrawColor(c.r, c.g, c.b) }

// fit cuts s (already translated) with an ellipsis to w millimetres in the current font.
func (p *pdfDoc) fit(s string, w float64) string {
	if s == "" || p.pdf.GetStringWidth(s) <= w {
		return s
	}
	const ell = "\x85" // "…" in cp1252
	ew := p.pdf.GetStringWidth(ell)
	if ew > w {
		return ""
	}
	// Binary search the longest prefix that fits beside the ellipsis (translated text is one
	// byte per character).
	lo, hi := 0, len(s)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if p.pdf.GetStringWidth(s[:mid])+ew <= w {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return strings.TrimRight(s[:lo], " ") + ell
}

// paragraph writes text (if any) across the page, wrapped, in a font style, size (points),
// line height (millimetres) and colour.
func (p *pdfDoc) paragraph(text, style string, size, lineH float64, c rgb) {
	if text == "" {
		return
	}
	p.pdf.SetFont(fontFamily, style, size)
	p.color(c)
	p.pdf.MultiCell(contentW, lineH, p.text(text), "", "L", false)
}

// room starts a new page unless h millimetres fit below the current position.
func (p *pdfDoc) room(h float64) bool {
	if p.pdf.GetY()+h > pageH-marginBottom {
		p.pdf.AddPage()
		return true
	}
	return false
}

// header runs on every page after the first: the title and organisation above a thin rule.
func (p *pdfDoc) header() {
	pdf := p.pdf
	if pdf.PageNo() == 1 {
		return
	}
	pdf.SetFont(fontFamily, "", 8)
	p.color(muted)
	pdf.SetXY(marginX, 8)
	pdf.CellFormat(contentW/2, 5, p.fit(p.text(p.d.Title), contentW/2), "", 0, "L", false, 0, "")
	pdf.CellFormat(contentW/2, 5, p.fit(p.text(p.d.Branding.Organisation), contentW/2), "", 0, "R", false, 0, "")
	p.draw(p.accent)
	pdf.SetLineWidth(0.4)
	pdf.Line(marginX, 13.5, pageW-marginX, 13.5)
	pdf.SetY(marginTop)
}

// footer runs on every page: the template's footer (else the organisation) and "Page N of M".
func (p *pdfDoc) footer() {
	pdf := p.pdf
	p.draw(rule)
	pdf.SetLineWidth(0.2)
	pdf.Line(marginX, pageH-13, pageW-marginX, pageH-13)
	pdf.SetFont(fontFamily, "", 8)
	p.color(muted)
	pdf.SetXY(marginX, pageH-12)
	left := p.d.Branding.Footer
	if left == "" {
		left = p.d.Branding.Organisation
	}
	pdf.CellFormat(contentW*0.75, 5, p.fit(p.text(left), contentW*0.75), "", 0, "L", false, 0, "")
	pdf.CellFormat(contentW*0.25, 5, "Page "+strconv.Itoa(pdf.PageNo())+" of "+pageAlias, "", 0, "R", false, 0, "")
}

// titleBlock draws the branding band, the title, subtitle, period and who generated it.
func (p *pdfDoc) titleBlock() {
	pdf, d := p.pdf, p.d
	p.fill(p.accent)
	pdf.Rect(0, 0, pageW, bandH, "F")
	pdf.SetFont(fontFamily, "B", 13)
	p.color(onColor(p.accent))
	pdf.SetXY(marginX, 9)
	org := d.Branding.Organisation
	if org == "" {
		org = "Security report"
	}
	pdf.CellFormat(contentW, 8, p.fit(p.text(org), contentW), "", 0, "L", false, 0, "")

	pdf.SetXY(marginX, bandH+10)
	p.paragraph(d.Title, "B", 22, 10, ink)
	p.paragraph(d.Subtitle, "", 12, 6, muted)
	pdf.Ln(2)
	pdf.SetFont(fontFamily, "", 9)
	p.color(muted)
	if !d.From.IsZero() || !d.To.IsZero() {
		period := "Period: " + formatDate(d.From, p.loc) + " \u2013 " + formatDate(d.To, p.loc) + " (" + p.loc.String() + ")"
		pdf.CellFormat(contentW, 5, p.text(period), "", 1, "L", false, 0, "")
	}
	gen := "Generated"
	if !d.GeneratedAt.IsZero() {
		gen += " " + d.GeneratedAt.In(p.loc).Format("2006-01-02 15:04 MST")
	}
	if d.GeneratedBy != "" {
		gen += " by " + d.GeneratedBy
	}
	if gen != "Generated" {
		pdf.CellFormat(contentW, 5, p.text(gen), "", 1, "L", false, 0, "")
	}
	pdf.Ln(3)
	p.draw(p.accent)
	pdf.SetLineWidth(0.6)
	pdf.Line(marginX, pdf.GetY(), pageW-marginX, pdf.GetY())
	pdf.Ln(6)
}

// section draws one section: heading, text, tiles, chart, table.
func (p *pdfDoc) section(s *Section) error {
	pdf := p.pdf
	// Keep the heading with the first block under it.
	first := 3 * rowH
	switch {
	case len(s.Figures) > 0:
		first = tileH
	case s.Chart != nil:
		first = chartH
	}
	p.room(12 + first)
	p.paragraph(s.Title, "B", 13, 7, p.accent)
	p.paragraph(s.Text, "", 9.5, 4.8, muted)
	pdf.Ln(2)
	if len(s.Figures) > 0 {
		p.tiles(s.Figures)
	}
	if s.Chart != nil {
		p.room(chartH)
		y := pdf.GetY()
		p.chart(s.Chart, marginX, y, contentW, chartH)
		pdf.SetXY(marginX, y+chartH+4)
	}
	if s.Table != nil {
		if err := p.table(s); err != nil {
			return err
		}
	}
	pdf.Ln(6)
	return nil
}

// tiles draws figures four to a row: a severity figure on its severity colour, others on a
// light tile with an accent strip.
func (p *pdfDoc) tiles(figs []Figure) {
	pdf := p.pdf
	per := min(tilesPerRow, len(figs))
	w := (contentW - float64(per-1)*tileGap) / float64(per)
	y := pdf.GetY()
	for i, f := range figs {
		col := i % per
		if col == 0 {
			if i > 0 {
				pdf.SetY(y + tileH + tileGap)
			}
			p.room(tileH + tileGap)
			y = pdf.GetY()
		}
		x := marginX + float64(col)*(w+tileGap)
		bg, fg, strip := tileFill, p.accent, true
		if c, ok := severityColor(f.Severity); ok {
			bg, fg, strip = c, onColor(c), false
		}
		p.fill(bg)
		pdf.Rect(x, y, w, tileH, "F")
		if strip {
			p.fill(p.accent)
			pdf.Rect(x, y, 1.2, tileH, "F")
		}
		pdf.SetFont(fontFamily, "B", 17)
		p.color(fg)
		pdf.SetXY(x+3, y+3)
		pdf.CellFormat(w-5, 9, p.fit(p.text(formatFigure(f)), w-5), "", 0, "L", false, 0, "")
		pdf.SetFont(fontFamily, "", 8)
		if strip {
			p.color(muted)
		}
		pdf.SetXY(x+3, y+13)
		pdf.CellFormat(w-5, 5, p.fit(p.text(f.Label), w-5), "", 0, "L", false, 0, "")
	}
	pdf.SetXY(marginX, y+tileH+tileGap+2)
}

// table draws a table: header repeated on each page, zebra rows, severity cells in colour,
// numbers right-aligned, text cut with an ellipsis, at most maxRows rows.
func (p *pdfDoc) table(s *Section) error {
	pdf, tb := p.pdf, s.Table
	if len(tb.Columns) == 0 {
		return nil
	}
	widths := p.columnWidths(tb)
	p.room(2 * rowH)
	p.tableHeader(tb, widths)
	pdf.SetFont(fontFamily, "", tableFontSize)
	var cells []cell
	var err error
	n := min(len(tb.Rows), p.maxRows)
	for r := 0; r < n; r++ {
		if cells, err = rowCells(s.ID, tb, r, cells); err != nil {
			return err
		}
		if p.room(rowH) {
			p.tableHeader(tb, widths)
			pdf.SetFont(fontFamily, "", tableFontSize)
		}
		y := pdf.GetY()
		if r%2 == 1 {
			p.fill(zebra)
			pdf.Rect(marginX, y, contentW, rowH, "F")
		}
		x := marginX
		for c, cl := range cells {
			col := tb.Columns[c]
			txt := p.text(cellText(col.Type, cl, p.loc))
			align, fillCell := "L", false
			switch col.Type {
			case Int, Float:
				align = "R"
			case Severity:
				if sc, ok := severityColor(cl.s); ok && !cl.empty {
					p.fill(sc)
					p.color(onColor(sc))
					fillCell = true
				}
			}
			if !fillCell {
				p.color(ink)
			}
			pdf.SetXY(x, y)
			pdf.CellFormat(widths[c], rowH, p.fit(txt, widths[c]-2*cellPad), "", 0, align, fillCell, 0, "")
			x += widths[c]
		}
		pdf.SetXY(marginX, y+rowH)
		if pdf.Err() {
			return pdf.Error()
		}
	}
	if len(tb.Rows) == 0 {
		pdf.SetFont(fontFamily, "I", tableFontSize)
		p.color(muted)
		pdf.CellFormat(contentW, rowH, "No rows.", "", 1, "L", false, 0, "")
	}
	if left := len(tb.Rows) - n; left > 0 {
		p.room(rowH)
		pdf.SetFont(fontFamily, "I", tableFontSize)
		p.color(muted)
		pdf.CellFormat(contentW, rowH, formatInt(int64(left))+" more rows are not shown: the workbook and the CSV hold every row.", "", 1, "L", false, 0, "")
	}
	return nil
}

// tableHeader draws the header row in the accent colour.
func (p *pdfDoc) tableHeader(tb *Table, widths []float64) {
	pdf := p.pdf
	pdf.SetFont(fontFamily, "B", tableFontSize)
	p.fill(p.accent)
	p.color(onColor(p.accent))
	pdf.SetX(marginX)
	for c, col := range tb.Columns {
		align := "L"
		if col.Type == Int || col.Type == Float {
			align = "R"
		}
		pdf.CellFormat(widths[c], rowH+0.5, p.fit(p.text(col.Name), widths[c]-2*cellPad), "", 0, align, true, 0, "")
	}
	pdf.Ln(rowH + 0.5)
}

// columnWidths sizes columns from the header and the first rows, then fits them to the page:
// narrow columns keep their width, wide ones share what is left in proportion.
func (p *pdfDoc) columnWidths(tb *Table) []float64 {
	pdf := p.pdf
	n := len(tb.Columns)
	nat := make([]float64, n)
	pdf.SetFont(fontFamily, "B", tableFontSize)
	for c, col := range tb.Columns {
		nat[c] = pdf.GetStringWidth(p.text(col.Name))
	}
	pdf.SetFont(fontFamily, "", tableFontSize)
	for r := 0; r < len(tb.Rows) && r < colWidthSample; r++ {
		for c, v := range tb.Rows[r] {
			if c >= n {
				break
			}
			cl, err := cellOf(tb.Columns[c].Type, v)
			if err != nil {
				continue // reported when the row is drawn
			}
			nat[c] = max(nat[c], pdf.GetStringWidth(p.text(cellText(tb.Columns[c].Type, cl, p.loc))))
		}
	}
	total := 0.0
	for c := range nat {
		nat[c] = min(max(nat[c]+2*cellPad+1, minColW), maxColW)
		total += nat[c]
	}
	out := make([]float64, n)
	if total <= contentW {
		for c := range nat {
			out[c] = nat[c] * contentW / total
		}
		return out
	}
	// Too wide: a column narrower than an even share of what is left keeps its width (ids,
	// dates, severities stay readable); the wide ones share the rest in proportion to what
	// they want.
	fixed := make([]bool, n)
	for {
		left, want, free := contentW, 0.0, 0
		for c := range nat {
			if fixed[c] {
				left -= nat[c]
			} else {
				want += nat[c]
				free++
			}
		}
		changed := false
		for c := range nat {
			if !fixed[c] && nat[c] <= left/float64(free) {
				fixed[c], changed = true, true
			}
		}
		if changed {
			continue
		}
		sum := 0.0
		for c := range nat {
			out[c] = nat[c]
			if !fixed[c] {
				out[c] = nat[c] * left / want
			}
			sum += out[c]
		}
		// So many columns that even their minimum widths overflow: shrink them all.
		for c := range out {
			out[c] *= min(1, contentW/sum)
		}
		return out
	}
}
