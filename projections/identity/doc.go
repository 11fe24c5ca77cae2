// Package identity is the identity context's read side: users (profile, status, roles,
// notification preferences), teams (name, lead, members: the memberships), API tokens and
// sessions, one row per stream each (tables identity_users, identity_teams, identity_tokens,
// identity_sessions), folded from the identity events; and Reader, their queries.
//
// No secret and no hash of one is projected: not a password hash, not a refresh-token or
// API-token hash. API tokens' last use is no event (one per request would swamp the log): the
// identity app keeps it in memory and flushes it every minute or so through TokenUsage into
// identity_token_usage, a plain table beside the projections' generations (a rebuild keeps it);
// Reader joins it.
//
// The identity HTTP API serves its lists from the app's in-memory directory (it is small and
// must be current for authentication anyway); this read model is what the other read paths
// join (the notifier's recipients, leads, phones and preferences; the query API's team scope).
package identity
