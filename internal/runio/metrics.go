package runio

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
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

// ReadMetrics returns the complete, valid JSON lines of a metrics file. A
// last line without its newline, or any line that is not a JSON object, ends
// the valid prefix; torn reports whether anything was dropped.
func ReadMetrics(path string) (lines [][]byte, torn bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return lines, true, nil
		}
		line := data[:i]
		if !json.Valid(line) || len(bytes.TrimSpace(line)) == 0 || bytes.TrimSpace(line)[0] != '{' {
			return lines, true, nil
		}
		lines = append(lines, line)
		data = data[i+1:]
	}
	return lines, false, nil
}

// RepairMetrics rewrites the metrics file atomically keeping the valid
// prefix (see ReadMetrics) and, of that, the lines keep accepts (nil keeps
// all). A missing file is not an error. It returns the number of lines
// dropped.
func RepairMetrics(path string, keep func(line []byte) bool) (dropped int, err error) {
	lines, torn, err := ReadMetrics(path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	if torn {
		dropped++
	}
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	for _, l := range lines {
		if keep != nil && !keep(l) {
			dropped++
			continue
		}
		w.Write(l)
		w.WriteByte('\n')
	}
	w.Flush()
	if dropped == 0 {
		return 0, nil
	}
	return dropped, WriteFileAtomic(path, out.Bytes(), 0o644)
}
