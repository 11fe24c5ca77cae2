package clickhouse

import (
	"fmt"

	"github.com/socplatform/soc/projections/analytics"
)

// timeline puts facts into a query's buckets in SQL with arithmetic and one array lookup.
//
// The buckets' boundaries (analytics.Buckets: local midnights, DST included) are all whole
// multiples of width after base, width being the greatest common divisor of their offsets (a
// day in UTC, an hour across a DST change, a day for months). A fact's slot is
// intDiv(at - base, width); a constant array maps slots to buckets. This costs a subtraction, a
// division and a lookup per row, where arrayFirstIndex(e -> at < e, ends) would build the
// array of ends again for every row (seconds over a million facts on 18.16).
type timeline struct {
	buckets   []analytics.Bucket
	base, end int64 // the first bucket's start and the last one's end, unix ms
	width     int64
	slots     []uint32 // index 1 (SQL): before base; index s+2: slot s → bucket (1-based)
}

// maxSlots bounds the lookup array (MaxBuckets days by half-hours, Lord Howe's DST shift).
const maxSlots = analytics.MaxBuckets * 48

func newTimeline(bs []analytics.Bucket) (*timeline, error) {
	t := &timeline{buckets: bs, base: bs[0].Start.UnixMilli(), end: bs[len(bs)-1].End.UnixMilli()}
	for _, b := range bs {
		t.width = gcd(t.width, b.End.UnixMilli()-t.base)
	}
	n := (t.end - t.base) / t.width
	if n > maxSlots {
		return nil, &analytics.ParamError{Param: "bucket", Reason: fmt.Sprintf("the buckets' boundaries in this time zone need more than %d slots", maxSlots)}
	}
	t.slots = make([]uint32, 0, n+1)
	t.slots = append(t.slots, 1) // before the first bucket: counted in it (running sums)
	b := 0
	for s := int64(0); s < n; s++ {
		for t.base+s*t.width >= bs[b].End.UnixMilli() {
			b++
		}
		t.slots = append(t.slots, uint32(b+1))
	}
	return t, nil
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// expr is the SQL of a row's 1-based bucket index (for rows with at < end; rows before base
// get bucket 1), with its arguments.
func (t *timeline) expr() (string, []any) {
	return "toUInt32(arrayElement(?, toUInt32(if(at < ?, 1, intDiv(at - ?, ?) + 2))))", []any{t.slots, t.base, t.base, t.width}
}

// index is the 0-based bucket of a 1-based index from expr.
func (t *timeline) index(b uint32) (int, bool) { return int(b) - 1, b >= 1 && int(b) <= len(t.buckets) }
