package identity

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readkit"
)

// usageTable holds API tokens' last use: written by TokenUsage, not by a projection, so it has
// no generations and a rebuild of identity_tokens keeps it.
const usageTable = "identity_token_usage"

func createUsage(d projections.Dialect) string {
	return "CREATE TABLE IF NOT EXISTS " + usageTable + " (token_id " + readkit.KeyText(d) + " PRIMARY KEY, last_used_at " + readkit.TInt + ")"
}

// TokenUsage writes API tokens' last-used times (the identity app's LastUsedSink).
type TokenUsage struct {
	db   *projections.DB
	once sync.Once
	err  error
}

// NewTokenUsage returns a TokenUsage writing to db.
func NewTokenUsage(db *projections.DB) *TokenUsage { return &TokenUsage{db: db} }

// maxUsageBatch bounds the rows of one statement.
const maxUsageBatch = 200

// RecordTokensUsed stores each token's last use, never moving one back in time.
func (u *TokenUsage) RecordTokensUsed(ctx context.Context, used map[string]time.Time) error {
	u.once.Do(func() { _, u.err = u.db.SQL.ExecContext(ctx, createUsage(u.db.Dialect)) })
	if u.err != nil {
		return u.err
	}
	ids := make([]string, 0, len(used))
	for id := range used {
		ids = append(ids, id)
	}
	sort.Strings(ids) // a stable order: concurrent flushes lock rows in the same order
	d := u.db.Dialect
	for start := 0; start < len(ids); start += maxUsageBatch {
		chunk := ids[start:min(len(ids), start+maxUsageBatch)]
		q := "INSERT INTO " + usageTable + " (token_id, last_used_at) VALUES "
		args := make([]any, 0, 2*len(chunk))
		for i, id := range chunk {
			if i > 0 {
				q += ", "
			}
			q += "(" + d.Placeholder(2*i+1) + ", " + d.Placeholder(2*i+2) + ")"
			args = append(args, id, readkit.Micros(used[id]))
		}
		q += " ON CONFLICT (token_id) DO UPDATE SET last_used_at = excluded.last_used_at WHERE excluded.last_used_at > " + usageTable + ".last_used_at"
		if _, err := u.db.SQL.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}
