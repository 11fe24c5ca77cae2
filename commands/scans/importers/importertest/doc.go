// Package importertest is the contract suite every scanner-format parser passes (the port is
// importers.Parser; watermill's universal pub/sub tests are the model). A parser's tests call
// Run with a Spec that names its golden files, hostile inputs and limits, FuzzParse calls Fuzz and
// the benchmarks call Bench; the parser's own _test.go files keep only what is specific to its
// format (field-by-field expectations, fingerprint rules, format quirks).
//
// It also holds the helpers those tests share: locating each format's files (the shared scanner
// testdata, its variants/<format> folder and the project's own samples under
// importers/testdata/<format>, which every golden and detection check walks), parsing a
// file or string, the report invariants, ParseError assertions and readers that produce inputs
// too large to hold in memory. It is imported only by _test.go files.
package importertest
