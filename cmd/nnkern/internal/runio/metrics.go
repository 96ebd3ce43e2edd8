package runio

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"unsafe"

	"github.com/nnkern/nnkern/internal/fileio"
	"github.com/nnkern/nnkern/internal/loadlimit"
)

// Metrics appends JSON records, one per line, to a metrics.jsonl file.
// Records are buffered in memory; Flush hands all buffered complete lines to
// the kernel in a single write(2) on an O_APPEND file, so a killed process
// never leaves a partial line behind (the kernel completes or refuses the
// whole write); Sync also fsyncs. Callers Sync before writing a checkpoint so
// that every record the checkpoint covers is durable. Metrics is not safe for
// concurrent use.
type Metrics struct {
	f    *os.File
	path string
	buf  []byte
}

// OpenMetrics opens (creating if needed) the metrics file at path for
// appending.
func OpenMetrics(path string) (*Metrics, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &Metrics{f: f, path: path}, nil
}

// Add buffers one record; it must marshal to JSON.
func (m *Metrics) Add(rec any) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("metrics %s: %w", m.path, err)
	}
	m.buf = append(m.buf, b...)
	m.buf = append(m.buf, '\n')
	return nil
}

// Buffered reports the number of bytes not yet written.
func (m *Metrics) Buffered() int { return len(m.buf) }

// Flush writes the buffered lines with one write call.
func (m *Metrics) Flush() error {
	if len(m.buf) == 0 {
		return nil
	}
	n, err := m.f.Write(m.buf)
	m.buf = m.buf[n:]
	if err != nil {
		return fmt.Errorf("metrics %s: %w", m.path, err)
	}
	m.buf = m.buf[:0]
	return nil
}

// Sync flushes and fsyncs.
func (m *Metrics) Sync() error {
	if err := m.Flush(); err != nil {
		return err
	}
	if err := m.f.Sync(); err != nil {
		return fmt.Errorf("metrics %s: fsync: %w", m.path, err)
	}
	return nil
}

// Close flushes, fsyncs and closes the file.
func (m *Metrics) Close() error {
	err := m.Sync()
	if cerr := m.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("metrics %s: %w", m.path, cerr)
	}
	return err
}

// MetricsError reports a damaged line of a metrics file: a complete line
// (one that ends in a newline) that is not a JSON object. A killed write
// cannot leave one (records are whole lines appended with one write), so
// such a line was damaged by something else, and the records it held are
// not known.
type MetricsError struct {
	Path string
	Line int // 1-based
	Err  string
}

func (e *MetricsError) Error() string {
	return fmt.Sprintf("%s line %d: %s", e.Path, e.Line, e.Err)
}

// ReadMetrics returns the lines of a metrics file, each a JSON object. The
// bytes after the last newline, if any, are the torn tail a process killed
// mid-write (or a crash of the machine) can leave: they are not returned and
// torn reports them. Any complete line that is not a JSON object is a
// *MetricsError naming the line: ReadMetrics never drops a complete line.
//
// Only a regular file is read, and only if it and the lines returned (a
// slice header each) fit in the load budget (loadlimit.Budget,
// NNKERN_LOAD_LIMIT); errors name path.
func ReadMetrics(path string) (lines [][]byte, torn bool, err error) {
	budget, err := loadlimit.Budget(0)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	data, err := fileio.ReadFileLimit(path, budget)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return parseMetrics(path, data, budget)
}

// lineHeader is what a line returned by ReadMetrics costs besides its
// bytes in the file: a slice header.
const lineHeader = int64(unsafe.Sizeof([]byte(nil)))

// parseMetrics splits the contents of the metrics file path into lines
// (see ReadMetrics); the lines share data's memory. The slice headers are
// counted against budget with data before they are made: a file of
// "{}" lines takes 3 bytes a line, its headers 24.
func parseMetrics(path string, data []byte, budget int64) (lines [][]byte, torn bool, err error) {
	n := bytes.Count(data, []byte{'\n'})
	if need := int64(len(data)) + int64(n)*lineHeader; need > budget {
		return nil, false, fmt.Errorf("%s: %d lines in %d bytes need %d bytes, over the %d-byte load limit (%s)",
			path, n, len(data), need, budget, loadlimit.EnvVar)
	}
	lines = make([][]byte, 0, n)
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return lines, true, nil
		}
		line := data[:i]
		if t := bytes.TrimSpace(line); len(t) == 0 || t[0] != '{' || !json.Valid(line) {
			return nil, false, &MetricsError{Path: path, Line: n, Err: "not a JSON record (damaged; its records are unknown)"}
		}
		lines = append(lines, line)
		data = data[i+1:]
	}
	return lines, false, nil
}

// RepairMetrics rewrites the metrics file atomically without its torn tail
// (see ReadMetrics) and without the lines keep rejects (nil keeps all). A
// missing file is not an error; a damaged complete line is a
// *MetricsError and changes nothing. It returns the number of lines
// dropped, the torn tail counting as one.
func RepairMetrics(path string, keep func(line []byte) bool) (dropped int, err error) {
	lines, torn, err := ReadMetrics(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	var me *MetricsError
	if errors.As(err, &me) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("metrics %w", err)
	}
	if torn {
		dropped++
	}
	var kept [][]byte
	for _, l := range lines {
		if keep != nil && !keep(l) {
			dropped++
			continue
		}
		kept = append(kept, l)
	}
	if dropped == 0 {
		return 0, nil
	}
	return dropped, RewriteMetrics(path, kept)
}

// RewriteMetrics replaces the metrics file at path, atomically, with lines
// (each without its newline).
func RewriteMetrics(path string, lines [][]byte) error {
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	for _, l := range lines {
		w.Write(l)
		w.WriteByte('\n')
	}
	w.Flush()
	return fileio.WriteFileAtomic(path, out.Bytes(), 0o644)
}
