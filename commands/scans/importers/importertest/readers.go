package importertest

import (
	"context"
	"io"
	"runtime"
	"testing"

	"golang.org/x/text/encoding/unicode"
)

// PatternReader yields Prefix, then Pattern repeated until N bytes in all, then Suffix, without
// holding the whole input in memory. Read counts what it handed out, so a test can assert that a
// parser refused an input after reading only a little of it.
type PatternReader struct {
	Prefix, Pattern, Suffix []byte
	N                       int64
	pos                     int64
}

func (r *PatternReader) Read(p []byte) (int, error) {
	np := int64(len(r.Prefix))
	total := np + r.N + int64(len(r.Suffix))
	if r.pos >= total {
		return 0, io.EOF
	}
	i := 0
	for i < len(p) && r.pos < total {
		var k int
		switch {
		case r.pos < np:
			k = copy(p[i:], r.Prefix[r.pos:])
		case r.pos < np+r.N:
			off := (r.pos - np) % int64(len(r.Pattern))
			k = copy(p[i:], r.Pattern[off:])
			if rest := np + r.N - r.pos; int64(k) > rest {
				k = int(rest)
			}
		default:
			k = copy(p[i:], r.Suffix[r.pos-np-r.N:])
		}
		i += k
		r.pos += int64(k)
	}
	return i, nil
}

// Consumed is how many bytes Read has handed out.
func (r *PatternReader) Consumed() int64 { return r.pos }

// UTF16 is b written as UTF-16 in order, with a byte order mark when bom is set: a report as
// Windows PowerShell's `>` (UTF-16LE with a mark) and other Windows tools save it.
func UTF16(tb testing.TB, b []byte, order unicode.Endianness, bom bool) []byte {
	tb.Helper()
	policy := unicode.IgnoreBOM
	if bom {
		policy = unicode.UseBOM
	}
	out, err := unicode.UTF16(order, policy).NewEncoder().Bytes(b)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// Allocated returns the bytes allocated while f ran.
func Allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// cancelAfter cancels its context once it has handed out n bytes of r, or when r is exhausted
// when n is 0, so a parser sees the cancellation while it is still reading or decoding.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n > 0 {
		if c.n -= int64(n); c.n <= 0 {
			c.cancel()
		}
	}
	if err == io.EOF {
		c.cancel()
	}
	return n, err
}

// Retained returns the heap bytes still in use, after a collection, by what f returns (a
// report): what a parser keeps, rather than what it allocated on the way. Keep the input alive
// past the call (runtime.KeepAlive), or its release offsets what the report keeps.
func Retained(f func() any) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	v := f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}
