package app

import (
	"bufio"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/socplatform/soc/commands/scans/importers"
)

// Defaults of Importer.spillAbove and Importer.recordBatch.
const (
	// defaultSpillAbove: a report with more findings than this has them written to a temporary
	// file once parsed, so the import holds one batch of findings at a time instead of the
	// whole report (112k Trivy findings are ~100 MB as importers.Finding values).
	defaultSpillAbove = 10_000
	// defaultRecordBatch is how many findings are handed to the recorder at once.
	defaultRecordBatch = 2048
)

// reportFindings is a parsed report's findings as the import reads them: twice, once to check
// that every finding can be attached and to find the duplicates before anything is recorded,
// once to record them. A small report keeps them in memory; a large one is spilled to a
// temporary file (gob) and read back one finding at a time.
type reportFindings struct {
	n    int
	mem  []importers.Finding
	file *os.File
}

// spilledFinding is one finding in the spill file. gob leaves out a pointer to a zero number,
// so the CVSS ratings whose scanner score is 0 are named by index and restored.
type spilledFinding struct {
	F          importers.Finding
	ZeroScores []int
}

// takeFindings moves rep.Findings into a reportFindings: spilled to a temporary file, and
// rep.Findings cleared as they are written and then dropped, when there are more than
// spillAbove. A spill that fails leaves rep.Findings cut short: the import fails with it.
func takeFindings(rep *importers.Report, spillAbove int) (*reportFindings, error) {
	l := &reportFindings{n: len(rep.Findings)}
	if l.n <= spillAbove {
		l.mem = rep.Findings
		return l, nil
	}
	// What the parser decoded on the way (as large as the report) is garbage now, but the
	// collector's goal was set while it was live: collect it before the spill allocates, so the
	// spill and the import reuse its memory instead of growing the heap past the parse's peak.
	runtime.GC()
	f, err := os.CreateTemp("", "soc-import-findings-*.gob")
	if err != nil {
		return nil, fmt.Errorf("spilling the report's findings: %w", err)
	}
	// Unlinked at once where the system allows it: nothing to clean up after a crash.
	_ = os.Remove(f.Name())
	l.file = f
	w := bufio.NewWriterSize(f, 1<<20)
	enc := gob.NewEncoder(w)
	for i := range rep.Findings {
		rec := spilledFinding{F: rep.Findings[i]}
		for j, c := range rec.F.CVSS {
			if c.Score != nil && *c.Score == 0 {
				rec.ZeroScores = append(rec.ZeroScores, j)
			}
		}
		if err := enc.Encode(&rec); err != nil {
			l.close()
			return nil, fmt.Errorf("spilling the report's findings: %w", err)
		}
		// Written: its strings may go now, so the spill does not add to the report's memory.
		rep.Findings[i] = importers.Finding{}
	}
	if err := w.Flush(); err != nil {
		l.close()
		return nil, fmt.Errorf("spilling the report's findings: %w", err)
	}
	rep.Findings = nil
	return l, nil
}

// each calls fn with every finding in report order, with its index; f is fn's own until the
// next call when the findings are in memory, and for good when they were spilled.
func (l *reportFindings) each(ctx context.Context, fn func(i int, f *importers.Finding) error) error {
	if l.file == nil {
		for i := range l.mem {
			if i%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if err := fn(i, &l.mem[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := l.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("reading the spilled findings: %w", err)
	}
	dec := gob.NewDecoder(bufio.NewReaderSize(l.file, 1<<20))
	for i := 0; i < l.n; i++ {
		if i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec := new(spilledFinding) // a fresh value: gob merges into what it decodes into
		if err := dec.Decode(rec); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("reading the spilled findings: finding %d: %w", i, err)
		}
		for _, j := range rec.ZeroScores {
			if j < len(rec.F.CVSS) {
				rec.F.CVSS[j].Score = new(float64)
			}
		}
		if err := fn(i, &rec.F); err != nil {
			return err
		}
	}
	return nil
}

// close removes the spill file, if any.
func (l *reportFindings) close() {
	if l.file != nil {
		_ = l.file.Close()
		_ = os.Remove(l.file.Name())
		l.file = nil
	}
}
