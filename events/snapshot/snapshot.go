// Package snapshot keeps durable snapshots of the in-memory lookups that command-side services
// fold from the event log (the importer's asset index and findings catalogue, the CVE
// catalogue, …), so that a restart restores the state and reads only the events after it
// instead of replaying the whole $all.
//
// A snapshot is a file <dir>/<name>.snap: one JSON header line (format, name, state version,
// the global position the state covers, the id of the event at that position, the body's length
// and SHA-256), then the state encoded with encoding/gob. Files are written to a temporary file,
// fsynced and renamed over the previous one (and the directory fsynced), so a crash leaves the old
// snapshot or the new one, never half of one.
//
// Snapshots live in a directory per node, not in the event store, on purpose: they are caches of
// one process's memory, derived from the store and disposable. Any snapshot that cannot be trusted
// — unreadable, of another format or state version, failing its checksum, or covering a position
// whose event is not the one the store holds there (the store was replaced, restored or is
// another one) — is ignored with a log line and the caller rebuilds from position 0. The
// directory is the same whichever event-store backend the node runs on.
package snapshot

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/socplatform/soc/events"
)

// Format names the file layout; a file with another value is ignored.
const Format = "soc-lookup-snapshot/1"

// header is the first line of a snapshot file.
type header struct {
	Format   string `json:"format"`
	Name     string `json:"name"`
	Version  int    `json:"version"`  // the state's own encoding version (the caller's)
	Position int64  `json:"position"` // global position of the last event the state includes
	EventID  string `json:"event_id"` // id of the event at Position ("" for position 0)
	Length   int64  `json:"length"`
	SHA256   string `json:"sha256"`
	SavedAt  string `json:"saved_at"`
}

// Reader is the part of the event store a snapshot is checked against.
type Reader interface {
	ReadAll(ctx context.Context, after int64, limit int) ([]events.Envelope, error)
}

// Dir is a directory of snapshots. The zero value (Path "") disables snapshots: Load finds
// nothing and Save does nothing.
type Dir struct {
	Path string
	Log  *slog.Logger
}

// Enabled reports whether snapshots are kept.
func (d Dir) Enabled() bool { return d.Path != "" }

func (d Dir) file(name string) string { return filepath.Join(d.Path, name+".snap") }

// Logger is the directory's logger (a discarding one when none was given).
func (d Dir) Logger() *slog.Logger { return d.log() }

// Mark is a position in the store and the id of the event there: what a snapshot covers.
type Mark struct {
	Position int64
	EventID  string
}

func (d Dir) log() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Log
}

// Save writes state (gob-encoded) as the snapshot name at version, covering the store up to
// at. It replaces the previous snapshot atomically.
func (d Dir) Save(name string, version int, at Mark, state any) error {
	if !d.Enabled() {
		return nil
	}
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(state); err != nil {
		return fmt.Errorf("snapshot %s: encoding: %w", name, err)
	}
	sum := sha256.Sum256(body.Bytes())
	h, err := json.Marshal(header{Format: Format, Name: name, Version: version, Position: at.Position, EventID: at.EventID,
		Length: int64(body.Len()), SHA256: hex.EncodeToString(sum[:]), SavedAt: time.Now().UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.Path, 0o755); err != nil {
		return fmt.Errorf("snapshot %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(d.Path, name+".snap.tmp-*")
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	w := bufio.NewWriterSize(tmp, 1<<20)
	_, err = w.Write(append(h, '\n'))
	if err == nil {
		_, err = w.Write(body.Bytes())
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), d.file(name))
	}
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", name, err)
	}
	// The rename is durable only once the directory entry is.
	if dir, err := os.Open(d.Path); err == nil {
		_ = dir.Sync()
		dir.Close()
	}
	return nil
}

// Load decodes the snapshot name into state and returns the position it covers. ok is false
// when there is no usable snapshot: none, or one that is corrupt, of another format or version,
// or that does not match the store (checked through r: the event at its position must be the
// one it recorded). Every such case is logged; state may then be partly written and must be
// discarded by the caller, who rebuilds from position 0. An error is returned only when the
// store could not be read.
func (d Dir) Load(ctx context.Context, r Reader, name string, version int, state any) (at Mark, ok bool, err error) {
	if !d.Enabled() {
		return Mark{}, false, nil
	}
	f, err := os.Open(d.file(name))
	if errors.Is(err, os.ErrNotExist) {
		return Mark{}, false, nil
	}
	ignore := func(why string, args ...any) (Mark, bool, error) {
		d.log().Warn("ignoring the lookup snapshot, rebuilding from the whole event log",
			append([]any{"snapshot", d.file(name), "reason", why}, args...)...)
		return Mark{}, false, nil
	}
	if err != nil {
		return ignore("unreadable", "err", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	line, err := br.ReadBytes('\n')
	if err != nil {
		return ignore("no header", "err", err)
	}
	var h header
	if err := json.Unmarshal(line, &h); err != nil {
		return ignore("bad header", "err", err)
	}
	switch {
	case h.Format != Format:
		return ignore("another format", "format", h.Format)
	case h.Name != name:
		return ignore("another lookup's snapshot", "name", h.Name)
	case h.Version != version:
		return ignore("another state version", "version", h.Version, "want", version)
	case h.Position < 0 || h.Length < 0 || h.Length > 1<<36:
		return ignore("bad header values")
	}
	body := make([]byte, h.Length)
	if _, err := io.ReadFull(br, body); err != nil {
		return ignore("truncated", "err", err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return ignore("trailing bytes")
	}
	if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != h.SHA256 {
		return ignore("checksum mismatch")
	}
	if h.Position > 0 {
		evs, err := r.ReadAll(ctx, h.Position-1, 1)
		if err != nil {
			return Mark{}, false, fmt.Errorf("snapshot %s: checking it against the store: %w", name, err)
		}
		if len(evs) == 0 || evs[0].GlobalPosition != h.Position || evs[0].EventID != h.EventID {
			return ignore("the store does not hold the event the snapshot covers", "position", h.Position)
		}
	}
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(state); err != nil {
		return ignore("undecodable state", "err", err)
	}
	return Mark{Position: h.Position, EventID: h.EventID}, true, nil
}

// Remove deletes the snapshot name (used to force a full rebuild).
func (d Dir) Remove(name string) error {
	if !d.Enabled() {
		return nil
	}
	if err := os.Remove(d.file(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Policy says when a follower writes a snapshot besides at shutdown: once at least Events events
// were applied since the last one and at least Interval has passed. Writing a snapshot costs a
// copy and an encoding of the whole state, so a burst of appends (a 100,000-finding import)
// must not write one per batch.
type Policy struct {
	Events   int64         // default 10,000
	Interval time.Duration // default 1 minute; negative: none
}

// Tracker applies a Policy to one follower. It is not safe for concurrent use.
type Tracker struct {
	Policy
	lastPos  int64
	lastTime time.Time
}

// Saved records that a snapshot covering pos was written (or restored) at now.
func (t *Tracker) Saved(pos int64, now time.Time) { t.lastPos, t.lastTime = pos, now }

// Due reports whether a snapshot covering pos should be written at now.
func (t *Tracker) Due(pos int64, now time.Time) bool {
	ev, iv := t.Events, t.Interval
	if ev <= 0 {
		ev = 10_000
	}
	if iv == 0 {
		iv = time.Minute // a negative Interval means no minimum
	}
	return pos-t.lastPos >= ev && now.Sub(t.lastTime) >= iv
}

// Changed reports whether pos is beyond the last snapshot (a shutdown snapshot is worth writing).
func (t *Tracker) Changed(pos int64) bool { return pos > t.lastPos }
