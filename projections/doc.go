// Package projections will hold the projection runner, its checkpoints and the read models per
// context (PostgreSQL, SQLite, ClickHouse, Elasticsearch adapters). Empty until the read side lands.
package projections
