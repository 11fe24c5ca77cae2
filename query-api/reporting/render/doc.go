// Package render turns a report's content (Document) into a file: PDF, Excel workbook or CSV.
// It knows nothing of where the figures come from: the reporting package builds a Document from
// the read models (analytics, findings) and a template, off the request path.
//
// # PDF
//
// PDFs are drawn with codeberg.org/go-pdf/fpdf (pure Go, no cgo, one small dependency). We
// chose it over github.com/johnfercher/maroto, which is built on the same engine and adds a
// grid layout layer we do not need (our layout is a title block, tiles, charts and tables) plus
// more dependencies, and over HTML printed by headless Chromium, which is not installed
// everywhere and costs a browser process per report. Charts are drawn with fpdf's primitives
// (lines, rectangles, text): axes with "nice" scales (steps of 1, 2 or 5 × 10^k), gridlines,
// thinned labels and a legend.
//
// fpdf's core fonts (Helvetica) hold Windows-1252 only: text is translated with fpdf's
// UnicodeTranslator for cp1252, and a character cp1252 cannot hold (CJK, emoji, most arrows) is
// written as "?" — the workbook and the CSV keep the exact text. Embedding a Unicode TTF would
// lift this at the price of a font file in the binary and slower, larger PDFs.
//
// # Colours
//
// One severity palette serves PDF tiles, table cells, chart series and workbook fills:
// critical #7B1FA2 (purple), high #D32F2F (red), medium #F57C00 (orange), low #FBC02D (amber),
// info #1976D2 (blue), unknown #757575 (grey). Other series take the document's accent colour
// (Branding.Color, default #1F4E79) and then a fixed qualitative palette.
//
// # Bounds
//
// A table of any length renders (100,000 rows are benchmarked); a PDF table stops after
// MaxPDFRows rows with a line saying how many were left out (the workbook and CSV hold them
// all); a chart draws at most MaxChartPoints points (longer series are thinned) and
// MaxChartSeries series; a cell's text is cut at MaxCellRunes.
package render
