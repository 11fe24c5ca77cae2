// Package domain holds the scan orchestration rules: the Definition aggregate (what to scan,
// with what, how often, with which timeout and retry policy) and the Run aggregate (one
// execution of a definition and its lifecycle). No I/O: the application layer loads an
// aggregate from its stream, calls a method, and appends the changes the method returns.
//
// Streams (context scans):
//
//	scans-definition-<uuid>  ScanDefinitionCreated, ScanDefinitionUpdated, ScanDefinitionDeleted
//	scans-run-<uuid>         ScanRequested, ScanStarted, ScanAttemptFailed, ScanCompleted,
//	                         ScanFailed, ScanCancelled
//
// A run's uuid is also the scan_id of its import (stream scans-import-<uuid>), so the scans
// read model shows what the run imported.
//
// Run lifecycle:
//
//	requested ──start(n)──► running ──complete──► completed
//	    ▲                      │ ──attempt failed, attempts < max──► requested (waits for n+1)
//	    │                      │ ──attempt failed, attempts = max──► failed
//	    └──────────────────────┘
//	requested | running ──cancel──► cancelled
//
// A run waiting for its next attempt is "requested" again (with NextAttemptAt): the five states
// of the issue stay the only states a reader must know.
package domain
