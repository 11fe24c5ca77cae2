// Package queryapi serves the platform's read endpoints: the assets, findings, scans and CVE
// read models with filters, sorting and cursor pagination; point-in-time views folded from
// the event store (as_of); paged stream reads and the audit trail over the store; and the
// OpenAPI document (package openapi). Every error is RFC 9457 problem+json through
// schemas/problem, naming the parameter that failed.
//
// Conventions every read follows:
//
//   - Unknown query parameters are refused (400): a misspelt filter must not widen a query.
//   - Strong ETags hash the body; If-None-Match answers 304; Cache-Control: no-cache.
//   - Read-your-writes: min_position (or the X-Min-Position header) waits, bounded by
//     Config.MaxWait and the wait parameter or Prefer: wait=N, for the read models to apply
//     that global position; otherwise 503 with Retry-After.
//   - Cursors are opaque, bound to the sort and filters they were issued for.
package queryapi
