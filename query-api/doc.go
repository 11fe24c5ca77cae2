// Package queryapi will hold the read endpoints, search, analytics, WebSocket and replay/audit.
// Empty until the read side lands.
package queryapi
