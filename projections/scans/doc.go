// Package scans is the scans context's read side: the scans read model, one row per scan import
// keyed by the scan id (table scans), folded from the ScanImport* events (Projection), and its
// queries (Reader: one scan, or a keyset-paginated list filtered by format, status, actor and
// start time).
//
// A failed import that could not even be read has ScanImportFailed as its only event: it starts
// the row too. The table is this package's; read it through Reader. Its tests run with the other
// read models' (projections/vulns, vulns_test), on the same generated dataset.
package scans
