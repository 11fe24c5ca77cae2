package runner

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/projections"
)

// Snapshot dumps the projection's live views as deterministic text: for each table (in
// p.Tables() order) its columns, then every row, sorted by all columns. Tests compare an
// incrementally built model with a rebuild through it. Rows are sorted in Go, not with ORDER
// BY, so the order does not depend on the database's collation.
func Snapshot(ctx context.Context, db *projections.DB, p projections.Projection) (string, error) {
	var b strings.Builder
	for _, base := range p.Tables() {
		cols, lines, err := TableRows(ctx, db, base)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "== %s (%s) %d rows\n", base, strings.Join(cols, ", "), len(lines))
		for _, l := range lines {
			b.WriteString(strings.Join(l, " | "))
			b.WriteByte('\n')
		}
	}
	return b.String(), nil
}

// TableRows reads a table or view whole, as Snapshot shows it: its column names, and every row
// with each value as deterministic text, the rows sorted by all columns.
func TableRows(ctx context.Context, db *projections.DB, table string) (cols []string, lines [][]string, err error) {
	rows, err := db.SQL.QueryContext(ctx, "SELECT * FROM "+table)
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot of %s: %w", table, err)
	}
	defer rows.Close()
	if cols, err = rows.Columns(); err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		line := make([]string, len(cols))
		for i, v := range vals {
			line[i] = formatValue(v)
		}
		lines = append(lines, line)
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(lines, func(a, b []string) int { return slices.Compare(a, b) })
	return cols, lines, nil
}

func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return strconv.Quote(string(x))
	case string:
		return strconv.Quote(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}
