package runio

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"fmt"

	"github.com/nnkern/nnkern/internal/fileio"
	"github.com/nnkern/nnkern/internal/npz"
	"github.com/nnkern/nnkern/internal/textesc"
)

// Tensor is a named array, the one model.npz holds too (npz.Tensor).
type Tensor = npz.Tensor

// Checkpoint is the state needed to continue a training run bit for bit:
// the model's tensors, the number of iterations done, the learning rate
// in effect for the next iteration, and the random generator's full state
// (nprand MarshalBinary, including the cached gaussian). ConfigDigest ties
// it to the run's config.json.
type Checkpoint struct {
	Iteration    int
	LearningRate float64
	RNG          []byte
	ConfigDigest string
	Tensors      []Tensor
}

// Tensor returns the named tensor, or false.
func (c *Checkpoint) Tensor(name string) (Tensor, bool) {
	for _, t := range c.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

const checkpointMagic = "nnkern-checkpoint-v1\n"

type gobTensor struct {
	Name  string
	Shape []int
	F32   []float32
	F64   []float64
	I64   []int64
}

type gobCheckpoint struct {
	Iteration    int
	LearningRate float64
	RNG          []byte
	ConfigDigest string
	Tensors      []gobTensor
}

// MarshalCheckpoint encodes c as magic, gob payload and a SHA-256 of the
// payload, so truncation or corruption is detected before decoding.
func MarshalCheckpoint(c *Checkpoint) ([]byte, error) {
	g := gobCheckpoint{Iteration: c.Iteration, LearningRate: c.LearningRate, RNG: c.RNG, ConfigDigest: c.ConfigDigest}
	for _, t := range c.Tensors {
		n, err := t.DataLen()
		if err != nil {
			return nil, err
		}
		if n != t.Len() {
			return nil, fmt.Errorf("tensor %s: %d elements for shape %v", t.Name, n, t.Shape)
		}
		gt := gobTensor{Name: t.Name, Shape: t.Shape}
		switch d := t.Data.(type) {
		case []float32:
			gt.F32 = d
		case []float64:
			gt.F64 = d
		case []int64:
			gt.I64 = d
		}
		g.Tensors = append(g.Tensors, gt)
	}
	var buf bytes.Buffer
	buf.WriteString(checkpointMagic)
	if err := gob.NewEncoder(&buf).Encode(&g); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(buf.Bytes()[len(checkpointMagic):])
	buf.Write(sum[:])
	return buf.Bytes(), nil
}

// ErrCorruptCheckpoint is wrapped by UnmarshalCheckpoint errors about the
// file's integrity.
var ErrCorruptCheckpoint = errors.New("corrupt checkpoint")

// UnmarshalCheckpoint decodes what MarshalCheckpoint wrote.
func UnmarshalCheckpoint(data []byte) (*Checkpoint, error) {
	if len(data) < len(checkpointMagic)+sha256.Size || string(data[:len(checkpointMagic)]) != checkpointMagic {
		return nil, fmt.Errorf("%w: bad header or too short (%d bytes)", ErrCorruptCheckpoint, len(data))
	}
	payload := data[len(checkpointMagic) : len(data)-sha256.Size]
	sum := sha256.Sum256(payload)
	if !bytes.Equal(sum[:], data[len(data)-sha256.Size:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorruptCheckpoint)
	}
	if err := checkGobFraming(payload); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptCheckpoint, err)
	}
	var g gobCheckpoint
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&g); err != nil {
		// gob's messages quote names from the stream.
		return nil, fmt.Errorf("%w: %s", ErrCorruptCheckpoint, textesc.Escape(err.Error()))
	}
	c := &Checkpoint{Iteration: g.Iteration, LearningRate: g.LearningRate, RNG: g.RNG, ConfigDigest: g.ConfigDigest}
	for _, gt := range g.Tensors {
		t := Tensor{Name: gt.Name, Shape: gt.Shape}
		switch {
		case gt.F32 != nil:
			t.Data = gt.F32
		case gt.F64 != nil:
			t.Data = gt.F64
		case gt.I64 != nil:
			t.Data = gt.I64
		default:
			// gob drops empty slices; restore a typed empty one.
			t.Data = []float64{}
		}
		if n, _ := t.DataLen(); n != t.Len() {
			return nil, fmt.Errorf("%w: tensor %q has %d elements for shape %v", ErrCorruptCheckpoint, t.Name, n, t.Shape)
		}
		c.Tensors = append(c.Tensors, t)
	}
	return c, nil
}

// checkGobFraming checks that every message of the gob stream b declares
// a length within what b holds. gob allocates a message's buffer from its
// declared length (up to 10 MB at a time) before reading it, so a few bytes
// declaring a long message would cost megabytes.
func checkGobFraming(b []byte) error {
	for off := 0; off < len(b); {
		n, w, ok := gobUint(b[off:])
		if !ok {
			return fmt.Errorf("gob message length cut short at byte %d", off)
		}
		off += w
		if n > uint64(len(b)-off) {
			return fmt.Errorf("gob message at byte %d declares %d bytes, %d remain", off-w, n, len(b)-off)
		}
		off += int(n)
	}
	return nil
}

// gobUint decodes gob's unsigned integer: one byte below 0x80, else a byte
// holding minus the count of big-endian bytes that follow.
func gobUint(b []byte) (v uint64, width int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	if b[0] < 0x80 {
		return uint64(b[0]), 1, true
	}
	n := -int(int8(b[0]))
	if n > 8 || len(b) < 1+n {
		return 0, 0, false
	}
	for _, c := range b[1 : 1+n] {
		v = v<<8 | uint64(c)
	}
	return v, 1 + n, true
}

// SaveCheckpoint writes c to path atomically.
func SaveCheckpoint(path string, c *Checkpoint) error {
	b, err := MarshalCheckpoint(c)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return fileio.WriteFileAtomic(path, b, 0o644)
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint. Only a
// regular file of at most the load budget (loadlimit.Budget,
// NNKERN_LOAD_LIMIT) is read: a checkpoint holds the model's tensors,
// which a model file may not hold more of.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := fileio.ReadFileLimit(path, 0)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	c, err := UnmarshalCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return c, nil
}
