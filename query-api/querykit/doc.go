// Package querykit is what every context's read endpoints share (query-api/assets, vulns and
// scans): query parameters checked against the OpenAPI document (Params), keyset cursors bound
// to their query, read-your-writes waits (min_position), the response cache, strong ETags,
// point-in-time folds (as_of), and the one mapping of the read models' errors to problem+json.
//
// Conventions every read follows:
//
//   - Unknown query parameters are refused (400): a misspelt filter must not widen a query.
//   - Strong ETags hash the body; If-None-Match answers 304; Cache-Control: no-cache.
//   - Read-your-writes: min_position (or the X-Min-Position header) waits, bounded by
//     Config.MaxWait and the wait parameter or Prefer: wait=N, for the read models to apply
//     that global position; otherwise 503 with Retry-After.
//   - Cursors are opaque, bound to the sort and filters they were issued for (the team scope
//     included).
//   - Team scoping: the principal in the request's context (schemas/access) restricts every
//     read to what its teams own — lists, counts and cursors over the visible rows only, a
//     detail or as_of read outside the scope 404 like a missing row (scope.go). A request
//     whose context carries no principal is served unscoped: the router puts one on every
//     route that is not public, and no read route is public.
package querykit
