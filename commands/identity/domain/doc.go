// Package domain holds the identity context's aggregates and their rules: User, Team, Role
// (custom roles), Invitation, APIToken and Session. Each is one stream ("identity-<aggregate>-
// <uuid>"); each decides on its own state and returns the events it would append. What one
// aggregate cannot see (an email held by another user, the last active admin, whether a role
// exists) the app layer checks against its directory before it calls the method.
//
// Aggregates never see a secret: passwords arrive as argon2id PHC strings, refresh tokens, API
// tokens and invitations as the hex SHA-256 of their secret.
package domain
