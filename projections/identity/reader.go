package identity

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readkit"
)

// Reader runs the identity read models' queries over their views. The directory is small (an
// organisation's people and teams), so lists are whole, in a stable order; each is bounded by
// MaxRows all the same.
type Reader struct {
	db *readkit.DB
}

// MaxRows bounds what one list returns.
const MaxRows = 10_000

// NewReader returns a Reader over db.
func NewReader(db *projections.DB) *Reader { return &Reader{db: readkit.NewDB(db)} }

// limit bounds q by MaxRows.
func limit(q string) string { return q + " LIMIT " + strconv.Itoa(MaxRows) }

// User returns one user (readkit.ErrNotFound when none).
func (r *Reader) User(ctx context.Context, id string) (*User, error) {
	return readkit.Get(ctx, r.db, "SELECT "+userTable.Qualified("u")+" FROM identity_users u", "u.id", id, userTable.Scan)
}

// UserByEmail returns the user with an email (compared lower-cased, as stored).
func (r *Reader) UserByEmail(ctx context.Context, email string) (*User, error) {
	return readkit.Get(ctx, r.db, "SELECT "+userTable.Qualified("u")+" FROM identity_users u", "u.email", strings.ToLower(email), userTable.Scan)
}

// Users lists the users by email.
func (r *Reader) Users(ctx context.Context) ([]User, error) {
	return rows(ctx, r.db, limit("SELECT "+userTable.Qualified("u")+" FROM identity_users u ORDER BY u.email, u.id"), nil, userTable.Scan)
}

// Team returns one team.
func (r *Reader) Team(ctx context.Context, id string) (*Team, error) {
	return readkit.Get(ctx, r.db, "SELECT "+teamTable.Qualified("t")+" FROM identity_teams t", "t.id", id, teamTable.Scan)
}

// Teams lists the teams by name.
func (r *Reader) Teams(ctx context.Context) ([]Team, error) {
	return rows(ctx, r.db, limit("SELECT "+teamTable.Qualified("t")+" FROM identity_teams t ORDER BY t.name, t.id"), nil, teamTable.Scan)
}

// TeamsOf lists the teams user is a member of, by name.
func (r *Reader) TeamsOf(ctx context.Context, user string) ([]Team, error) {
	q := readkit.NewQuery(r.db.Dialect)
	q.Like("t.members", `"`+user+`"`)
	return rows(ctx, r.db, limit("SELECT "+teamTable.Qualified("t")+" FROM identity_teams t"+q.WhereSQL()+" ORDER BY t.name, t.id"), q.Args, teamTable.Scan)
}

// Tokens lists the API tokens of owner (every token when owner is empty), by id, with their
// last use.
func (r *Reader) Tokens(ctx context.Context, owner string) ([]Token, error) {
	q := readkit.NewQuery(r.db.Dialect)
	q.Eq("k.owner_id", owner)
	stmt := "SELECT " + tokenTable.Qualified("k") + ", g.last_used_at FROM identity_tokens k LEFT JOIN " + usageTable +
		" g ON g.token_id = k.id" + q.WhereSQL() + " ORDER BY k.id"
	return rows(ctx, r.db, limit(stmt), q.Args, func(s readkit.Scanner) (*Token, error) {
		var used sql.NullInt64
		t, err := tokenTable.Scan(withExtra{s, []any{&used}})
		if err != nil {
			return nil, err
		}
		t.LastUsedAt = readkit.FromNullMicros(used)
		return t, nil
	})
}

// Sessions lists user's sessions, newest first.
func (r *Reader) Sessions(ctx context.Context, user string) ([]Session, error) {
	q := readkit.NewQuery(r.db.Dialect)
	q.Eq("s.user_id", user)
	return rows(ctx, r.db, limit("SELECT "+sessionTable.Qualified("s")+" FROM identity_sessions s"+q.WhereSQL()+" ORDER BY s.started_at DESC, s.id DESC"), q.Args, sessionTable.Scan)
}

func rows[R any](ctx context.Context, db *readkit.DB, q string, args []any, scan func(readkit.Scanner) (*R, error)) ([]R, error) {
	rs, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []R{}
	for rs.Next() {
		v, err := scan(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rs.Err()
}

// withExtra scans a table's columns and then the extra ones a query selects after them.
type withExtra struct {
	readkit.Scanner
	extra []any
}

func (s withExtra) Scan(dest ...any) error { return s.Scanner.Scan(append(dest, s.extra...)...) }
