// Package readmodel holds the read models of the platform's contexts — assets, findings, scans
// and the CVE catalogue — as projections (projections.Projection) writing SQLite or PostgreSQL
// tables, the queries the query API runs over them, and pure fold functions that rebuild one
// asset or finding from its stream (point-in-time reads, as_of).
package readmodel
