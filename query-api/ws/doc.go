// Package ws serves live updates over WebSocket: the projection runner hands every committed
// batch's changes to (*Hub).Publish, and the hub fans them out to the connected subscribers
// whose filter they match. Mount the hub at GET /ws.
//
// # Connecting
//
// A client upgrades with GET /ws (RFC 6455). A request that is not an upgrade gets
// 426 Upgrade Required, another method 405, a cross-origin upgrade 403 (by default only
// same-origin browsers may connect, as gorilla/websocket's default; set Config.CheckOrigin to
// allow others), and a hub that is full (Config.MaxClients) or closed 503 — all as RFC 9457
// problem+json. An initial filter may be given as query parameters, each a comma-separated list
// that may be repeated:
//
//	GET /ws?types=FindingOpened,FindingReopened&severity=critical,high
//	GET /ws?streams=assets-asset-0190…&projections=findings
//
// An invalid filter in the query is refused with 400 problem+json naming the parameter.
//
// # Filters
//
// A filter has four lists: types (event type), streams (stream id), severity (the finding's
// severity, one of critical, high, medium, low, info) and projections (the projection that
// applied the event). A change matches when every non-empty list contains its value; empty
// lists match anything, so the empty filter receives everything. Each list holds at most
// MaxFilterValues (100) values of at most MaxFilterValueLen (200) bytes; values are trimmed,
// de-duplicated and severities lower-cased.
//
// # Team scoping
//
// The principal of the upgrade request (schemas/access, put in its context by the router) is
// captured when the socket opens. A team-scoped principal (a remediator) receives only the
// changes it could read through the query API — those of assets its teams own and of their
// findings, the CVE catalogue's, its own scan imports' — decided per connection when each
// batch is sent, with ownership as the read models hold it then (Config.Owners; see scope.go).
// Filters narrow within that; they never widen it.
//
// # Messages
//
// All messages are JSON text frames. From the client:
//
//	{"type":"subscribe","filter":{"types":[…],"streams":[…],"severity":[…],"projections":[…]}}
//	{"type":"ping"}
//
// subscribe replaces the whole filter (a missing filter or missing list means "any") and is
// acknowledged with the filter now in force, normalized, all lists present:
//
//	{"type":"subscribed","filter":{"types":[…],"streams":[],"severity":[…],"projections":[]}}
//
// Events are queued in the same order as the acknowledgement: every event before it was
// selected by the old filter and every event after it by the new one. ping is answered with
// {"type":"pong"} (browsers cannot send WebSocket pings; a pong also tells the client that
// everything queued before it has been delivered).
//
// From the server, one message per matching change, in the order Publish was called:
//
//	{"type":"event","projection":"findings","severity":"high","asset_id":"…","event":{…envelope…}}
//
// severity and asset_id are left out when empty; event is the full events.Envelope.
// A client message the server cannot use — not JSON, a binary frame, an unknown type or field,
// a filter list that is too long or has too long a value, an unknown severity — is answered
// with {"type":"error","error":"…"} and the connection stays open with its filter unchanged.
//
// # Flow control
//
// Each connection has one writer goroutine and a send queue bounded by Config.QueueBytes
// (default 8 MiB, room for several projection batches of 1,000 events); queued messages are
// shared between the connections they go to (each change is encoded once). Publish hands a
// projection batch to every matching connection at once when it fits; when it does not, the
// connection gets what fits and the rest page in as its writer empties the queue (the next
// part when the queue is down to half), while the other connections already have the batch.
// Publish returns when every connection has the batch queued, so a client that reads never
// misses an event and is never closed for being slow: a client slower than the projections
// paces the publishing (the read models are committed before Publish, so queries are not
// held back, only the next batch). Only a stuck client is closed: one whose queue has had
// messages that the socket did not take for Config.StuckTimeout (default 30s: it read
// nothing). Publish waits for a connection at most that long, and a stuck client's backlog is
// bounded both by QueueBytes and by that time.
//
// # Keep-alive, limits and close codes
//
// The server pings every Config.PingInterval, between queued messages too; a connection from
// which nothing (a pong or any other frame) arrives within Config.PongWait is closed. The
// read limit is Config.MaxMessageBytes, and a client's replies (pong, error, subscribed) wait
// for room in its queue like events, so its memory is bounded. The close codes:
//
//	1001 going away        Hub.Close (server shutting down)
//	1008 policy violation  ReasonStuck "stuck client: nothing read within the stuck timeout;
//	                       events were missed: reload from the query API and reconnect" —
//	                       the client read nothing for StuckTimeout while events waited; it
//	                       missed every event after the last one it received, and the protocol
//	                       has no resume parameter, so it should reload what it shows from the
//	                       query API (each event carries its global_position; min_position=P
//	                       on a query waits for the read models to reach P) and reconnect;
//	                       also "keep-alive timeout" when no pong arrived within PongWait
//	1009 message too big   a client message larger than Config.MaxMessageBytes
//
// 1008 rather than 1013 (try again later) is used for a stuck client because the cause is the
// client, not the server's load: reconnecting at once is fine, but only after resynchronising.
// A stuck client whose socket still takes nothing cannot receive the close frame either: its
// connection is closed without one (1006 abnormal closure) when the message being written
// has not gone out within Config.WriteWait of the close (StuckTimeout + WriteWait after it
// began); one that resumes reading within WriteWait receives the events queued before the
// close, in order, then the close frame.
package ws
