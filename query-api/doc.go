// Package queryapi serves the platform's read endpoints: it mounts each context's (assets,
// vulns: findings and CVEs, scans — the packages of the same names below it) over one shared
// kit (querykit: parameters, cursors, read-your-writes, the response cache, ETags, problems),
// and serves the event store's own reads itself: paged stream reads and the audit trail, and
// the OpenAPI document (package openapi). Every error is RFC 9457 problem+json through
// schemas/problem, naming the parameter that failed; querykit's doc lists the conventions
// every read follows.
package queryapi
