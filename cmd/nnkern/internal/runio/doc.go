// Package runio holds the file formats of an nnkern run directory: an
// append-only metrics.jsonl that never keeps a torn line, checksummed
// checkpoints and the directory lock (model.npz is internal/npz).
// Files are written atomically through internal/fileio.
//
// Usage:
//
//	m, err := runio.OpenMetrics("run/metrics.jsonl")
//	m.Add(map[string]any{"it": 10, "loss": 2.3})
//	err = m.Sync() // one write(2) of whole lines, then fsync
package runio
