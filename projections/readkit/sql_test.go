package readkit

import "testing"

// chunks must cover every row exactly once and keep every statement under the parameter limit.
func TestChunks(t *testing.T) {
	for _, width := range []int{2, 34, 300, 40000} {
		for n := 0; n <= 1100; n++ {
			sum := 0
			for _, c := range chunks(n, width) {
				if c < 1 || (c*width > maxParams && c > 1) {
					t.Fatalf("n=%d width=%d: chunk %d", n, width, c)
				}
				sum += c
			}
			if sum != n {
				t.Fatalf("n=%d width=%d: chunks cover %d rows", n, width, sum)
			}
		}
	}
}
