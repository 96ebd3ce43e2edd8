// Package npz reads and writes nnkern's model files: numpy .npz archives
// (a zip of .npy arrays) holding a model's kind, weights, mean image,
// image shape and class names. The public package model is its user-facing
// form; this package is the format, shared by the library and the CLI.
//
// Reading distrusts the file: every size the zip directory or an .npy
// header declares is checked against the file, the model's shapes and the
// load budget before anything of that size is read or allocated, every
// entry's CRC-32 is verified, and weights must be finite. Writing is
// deterministic (sorted keys, no timestamps) and atomic.
//
//	err := npz.SaveModel("run/model.npz", &npz.Model{Kind: "softmax", Tensors: ts})
//	m, err := npz.LoadModel("run/model.npz")
package npz

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/nnkern/nnkern/internal/fileio"
	"github.com/nnkern/nnkern/internal/loadlimit"
	"github.com/nnkern/nnkern/internal/regfile"
)

// Tensor is a named array: Data is []float32, []float64 or []int64 with
// len(Data) equal to the product of Shape.
type Tensor struct {
	Name  string
	Shape []int
	Data  any
}

// Len returns the number of elements Shape describes.
func (t Tensor) Len() int {
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	return n
}

// DataLen returns the number of elements of Data, or an error naming the
// tensor when Data is not one of the supported slices.
func (t Tensor) DataLen() (int, error) {
	switch d := t.Data.(type) {
	case []float32:
		return len(d), nil
	case []float64:
		return len(d), nil
	case []int64:
		return len(d), nil
	}
	return 0, fmt.Errorf("tensor %s: unsupported data type %T", t.Name, t.Data)
}

// Model is what model.npz holds: the model kind ("softmax", "svm" or
// "twolayer"), the tensors (W, or W1, b1, W2, b2; the mean image "mean";
// "image_shape" as H, W, C) and the class names.
type Model struct {
	Kind    string
	Classes []string
	Tensors []Tensor
}

// Tensor returns the named tensor, or false.
func (m *Model) Tensor(name string) (Tensor, bool) {
	for _, t := range m.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// EncodeModel writes m as an npz archive, numpy.savez's layout: a zip of
// deflated .npy entries (format 2.0, little-endian, C order) named by the
// array without ".npy", in sorted order, without timestamps, so the same
// model always gives the same bytes. The archive loads with numpy.load;
// "kind" is a 0-d unicode array, "classes" one newline-joined 0-d string.
// The bytes are those of codeberg.org/sbinet/npyio's npz writer, which
// nnkern used first (a test holds the two together): model files keep
// their bytes, and the library does not link npyio's dependencies (gonum's
// mat and lapack, a pickle decoder) nor its reflection-driven encoding.
func EncodeModel(w io.Writer, m *Model) error {
	ents := map[string]npyArray{"kind": utf32Array(m.Kind)}
	if len(m.Classes) > 0 {
		ents["classes"] = utf32Array(strings.Join(m.Classes, "\n"))
	}
	for _, t := range m.Tensors {
		n, err := t.DataLen()
		if err != nil {
			return err
		}
		if n != t.Len() || len(t.Shape) < 1 || len(t.Shape) > 2 {
			return fmt.Errorf("tensor %s: %d elements for shape %v", t.Name, n, t.Shape)
		}
		var b bytes.Buffer
		var descr string
		switch d := t.Data.(type) {
		case []float32:
			descr = "<f4"
			binary.Write(&b, binary.LittleEndian, d)
		case []float64:
			descr = "<f8"
			binary.Write(&b, binary.LittleEndian, d)
		case []int64:
			descr = "<i8"
			binary.Write(&b, binary.LittleEndian, d)
		}
		ents[t.Name] = npyArray{descr, t.Shape, b.Bytes()}
	}
	names := make([]string, 0, len(ents))
	for k := range ents {
		names = append(names, k)
	}
	sort.Strings(names)
	zw := zip.NewWriter(w)
	for _, name := range names {
		e := ents[name]
		f, err := zw.Create(name)
		if err != nil {
			return err
		}
		if _, err := f.Write(npyPrefix(e.descr, e.shape)); err != nil {
			return err
		}
		if _, err := f.Write(e.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// npyArray is an .npy array to write: its dtype, shape and data bytes.
type npyArray struct {
	descr string
	shape []int
	data  []byte
}

// utf32Array is a 0-d numpy string: '<U' and the number of characters,
// each a little-endian uint32.
func utf32Array(s string) npyArray {
	var d []byte
	for _, r := range s {
		d = binary.LittleEndian.AppendUint32(d, uint32(r))
	}
	return npyArray{"<U" + strconv.Itoa(len(d)/4), nil, d}
}

// npyPrefix is what precedes an .npy array's data: the magic, format
// version 2.0, the 4-byte header length and the header dict, padded with
// spaces and ended by a newline. Version and padding are npyio's — it pads
// with (12+len+1)%16 spaces where numpy aligns the data to 64 bytes —
// and numpy reads either.
func npyPrefix(descr string, shape []int) []byte {
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shapeString(shape))
	dict += strings.Repeat(" ", (12+len(dict)+1)%16) + "\n"
	b := binary.LittleEndian.AppendUint32([]byte("\x93NUMPY\x02\x00"), uint32(len(dict)))
	return append(b, dict...)
}

// SaveModel writes m to path atomically if LoadModel would read it back:
// the tensors are exactly those of m's kind plus "mean" and
// "image_shape", and they pass LoadModel's checks (shapes, dtypes, finite
// values, class names), which run on the encoded bytes so that writer and
// reader cannot disagree. Otherwise it writes nothing. Errors name the
// file.
func SaveModel(path string, m *Model) error {
	b, err := encodeChecked(m)
	if err != nil {
		return fmt.Errorf("save model %s: %w", path, err)
	}
	return fileio.WriteFileAtomic(path, b, 0o644)
}

// encodeChecked encodes m and decodes the bytes with the reader's checks
// (no load budget: that is the reader's setting).
func encodeChecked(m *Model) ([]byte, error) {
	need, ok := kindTensors(m.Kind)
	if !ok {
		return nil, fmt.Errorf("unknown model kind %q (want softmax, svm or twolayer)", m.Kind)
	}
	want := map[string]bool{"mean": true, "image_shape": true}
	for _, n := range need {
		want[n] = true
	}
	seen := map[string]bool{}
	for _, t := range m.Tensors {
		switch {
		case seen[t.Name]:
			return nil, fmt.Errorf("two tensors named %q", t.Name)
		case !want[t.Name]:
			return nil, fmt.Errorf("tensor %q is not part of a %s model (%s, mean, image_shape)", t.Name, m.Kind, strings.Join(need, ", "))
		}
		seen[t.Name] = true
	}
	for i, c := range m.Classes {
		// The names are stored newline-joined, and numpy drops a
		// string's trailing NULs.
		if strings.ContainsAny(c, "\n\x00") {
			return nil, fmt.Errorf("class name %d (%q) holds a newline or NUL", i, c)
		}
	}
	var b bytes.Buffer
	if err := EncodeModel(&b, m); err != nil {
		return nil, err
	}
	if _, err := decodeModel(bytes.NewReader(b.Bytes()), int64(b.Len()), math.MaxInt64); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// kindTensors returns the weights a kind of model has, in the order
// LoadModel returns them, or false for an unknown kind.
func kindTensors(kind string) ([]string, bool) {
	switch kind {
	case "softmax", "svm":
		return []string{"W"}, true
	case "twolayer":
		return []string{"W1", "b1", "W2", "b2"}, true
	}
	return nil, false
}

// LoadModel reads a model.npz written by SaveModel (or by numpy.savez with
// the same keys) and validates it: the kind is known, every tensor it needs
// is present, the shapes are positive and consistent with each other and
// with image_shape and the class names, and every weight and mean value is
// finite. The mean is returned as float64 whatever its dtype in the file.
//
// The file is untrusted: only a regular file is read; every size the zip
// directory or an .npy header declares is checked against what the file
// holds, what the model's shapes allow and the load budget
// (loadlimit.Budget, NNKERN_LOAD_LIMIT) before anything of that size is
// read or allocated; every entry is read to its end so its CRC-32 is
// verified. Errors are one line naming the file.
func LoadModel(path string) (*Model, error) {
	budget, err := loadlimit.Budget(0)
	if err != nil {
		return nil, fmt.Errorf("model %s: %v", path, err)
	}
	f, st, err := regfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	defer f.Close()
	m, err := decodeModel(f, st.Size(), budget)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return m, nil
}

// Bounds of the model format, below the load budget.
const (
	// maxDirectory is the most zip directory read: a model has eight
	// entries, a few hundred bytes of directory.
	maxDirectory = 1 << 20
	// maxNpyHeader bounds an .npy header (numpy itself refuses headers
	// over 10,000 bytes unless told otherwise).
	maxNpyHeader = 1 << 16
	// maxKindEntry bounds the "kind" entry: a short string and its header.
	maxKindEntry = 4 << 10
	maxKindChars = 64
	// maxClassName is the most characters a class name may have.
	maxClassName = 256
	// maxImageSide bounds image_shape's height and width, so their
	// product cannot overflow (the mean's size bounds it further).
	maxImageSide = 1 << 20
)

// capReaderAt fails reads once left bytes have been read: zip.NewReader
// allocates for every directory record it reads, so the directory a
// hostile file declares must be bounded before it is parsed.
type capReaderAt struct {
	r    io.ReaderAt
	left int64
	over bool
}

func (c *capReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if int64(len(p)) > c.left {
		c.over = true
		return 0, errors.New("zip directory too large")
	}
	c.left -= int64(len(p))
	return c.r.ReadAt(p, off)
}

// npyHeader is the parsed header of one .npy entry.
type npyHeader struct {
	descr    string // '<f4', '<f8', '<i8' or '<U' and a count
	fortran  bool
	shape    []int
	size     int64 // bytes before the data: magic, version, length, header
	itemSize int64
}

// shapeString writes a shape as numpy does: (3, 2), (3,), ().
func shapeString(s []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, d)
	}
	if len(s) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// elems is the number of elements of shape, or false when it overflows
// limit.
func elems(shape []int, limit uint64) (uint64, bool) {
	for _, d := range shape {
		if d == 0 {
			return 0, true
		}
	}
	n := uint64(1)
	for _, d := range shape {
		if n > limit/uint64(d) {
			return 0, false
		}
		n *= uint64(d)
	}
	return n, true
}

// modelReader decodes one archive.
type modelReader struct {
	size  int64
	files map[string]*zip.File // array name ("W1") -> entry ("W1" or "W1.npy")
	hdr   map[string]npyHeader
}

// decodeModel reads and validates a model archive of size bytes from r,
// materialising at most budget bytes of arrays. Errors do not name the
// file; LoadModel adds it.
func decodeModel(r io.ReaderAt, size, budget int64) (*Model, error) {
	cr := &capReaderAt{r: r, left: maxDirectory}
	zr, err := zip.NewReader(cr, size)
	if err != nil {
		if cr.over {
			return nil, fmt.Errorf("not an npz archive: its zip directory is over %d bytes", maxDirectory)
		}
		return nil, fmt.Errorf("not an npz archive: %v", err)
	}
	cr.left = math.MaxInt64
	z := &modelReader{size: size, files: map[string]*zip.File{}, hdr: map[string]npyHeader{}}
	// Entries as npyio writes them ("W") or as numpy.savez does ("W.npy").
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, ".npy")
		if g, dup := z.files[name]; dup {
			return nil, fmt.Errorf("entries %q and %q both hold %q", g.Name, f.Name, name)
		}
		z.files[name] = f
	}
	if z.files["kind"] == nil {
		return nil, fmt.Errorf("no \"kind\" entry: not an nnkern model file")
	}
	m := &Model{}
	if m.Kind, err = z.readKind(); err != nil {
		return nil, err
	}
	need, ok := kindTensors(m.Kind)
	if !ok {
		return nil, fmt.Errorf("unknown model kind %q", m.Kind)
	}
	need = append(need, "mean", "image_shape")
	read := append([]string{"kind"}, need...)
	if z.files["classes"] != nil {
		read = append(read, "classes")
	}
	// The zip directory's sizes against the file, then every .npy header
	// (at most maxNpyHeader bytes each) against its entry.
	for _, name := range read {
		if z.files[name] == nil {
			return nil, fmt.Errorf("%s model without %q", m.Kind, name)
		}
		if err := z.checkEntry(name); err != nil {
			return nil, err
		}
	}
	for _, name := range read[1:] {
		if err := z.readHeader(name); err != nil {
			return nil, err
		}
	}
	C, err := z.checkShapes(m.Kind)
	if err != nil {
		return nil, err
	}
	// What the arrays need in memory: the entries' data, and for an array
	// transposed, widened (mean) or decoded (the class names) a second
	// copy up to twice as large.
	var total uint64
	for _, name := range read {
		f, h := z.files[name], z.hdr[name]
		total += f.UncompressedSize64
		if h.fortran || name == "classes" || (name == "mean" && h.descr == "<f4") {
			total += f.UncompressedSize64 * 2
		}
	}
	if total > uint64(budget) {
		return nil, fmt.Errorf("the arrays need %d bytes, over the %d-byte load limit (%s raises it)", total, budget, loadlimit.EnvVar)
	}
	for _, name := range need {
		t, err := z.readTensor(name)
		if err != nil {
			return nil, err
		}
		m.Tensors = append(m.Tensors, t)
	}
	if z.files["classes"] != nil {
		if m.Classes, err = z.readClasses(C); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// checkEntry compares what the zip directory declares for an entry with
// the file: the compressed bytes must lie in the file, a stored entry is
// as long as its data, a deflated one expands at most loadlimit.DeflateRatio times.
func (z *modelReader) checkEntry(name string) error {
	f := z.files[name]
	if f.Flags&0x1 != 0 {
		return fmt.Errorf("%s: encrypted zip entry", name)
	}
	if f.Method != zip.Store && f.Method != zip.Deflate {
		return fmt.Errorf("%s: zip compression method %d, want stored (0) or deflated (8)", name, f.Method)
	}
	off, err := f.DataOffset()
	if err != nil {
		return fmt.Errorf("%s: zip entry: %v", name, err)
	}
	if off > z.size || f.CompressedSize64 > uint64(z.size-off) {
		return fmt.Errorf("%s: zip entry declares %d compressed bytes, the file holds %d after its header", name, f.CompressedSize64, max(z.size-off, 0))
	}
	if f.Method == zip.Store && f.UncompressedSize64 != f.CompressedSize64 {
		return fmt.Errorf("%s: stored zip entry declares %d bytes in %d", name, f.UncompressedSize64, f.CompressedSize64)
	}
	if f.Method == zip.Deflate && f.UncompressedSize64 > f.CompressedSize64*loadlimit.DeflateRatio+1024 {
		return fmt.Errorf("%s: zip entry declares %d bytes from %d compressed, more than deflate can expand to", name, f.UncompressedSize64, f.CompressedSize64)
	}
	return nil
}

// entryReader reads one entry and keeps the CRC-32 of what it read:
// archive/zip skips its own check when the directory's CRC-32 is 0.
type entryReader struct {
	name string
	f    *zip.File
	rc   io.ReadCloser
	crc  uint32
	n    uint64
}

func (z *modelReader) open(name string) (*entryReader, error) {
	f := z.files[name]
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: zip entry: %v", name, err)
	}
	// archive/zip refuses to inflate past the declared size too; the
	// limit keeps that bound here, one byte over to see a lie.
	// checkEntry has bounded the size by the file's.
	lr := io.LimitReader(rc, int64(f.UncompressedSize64)+1)
	return &entryReader{name: name, f: f, rc: struct {
		io.Reader
		io.Closer
	}{lr, rc}}, nil
}

func (e *entryReader) Read(p []byte) (int, error) {
	n, err := e.rc.Read(p)
	e.crc = crc32.Update(e.crc, crc32.IEEETable, p[:n])
	e.n += uint64(n)
	return n, err
}

// readFull reads len(p) bytes, with errors that say what went wrong.
func (e *entryReader) readFull(p []byte) error {
	if _, err := io.ReadFull(e, p); err != nil {
		return e.err(err)
	}
	return nil
}

func (e *entryReader) err(err error) error {
	switch {
	case errors.Is(err, zip.ErrChecksum):
		return fmt.Errorf("%s: CRC-32 mismatch: the entry is damaged", e.name)
	case errors.Is(err, zip.ErrFormat):
		return fmt.Errorf("%s: zip entry holds more than the %d bytes it declares", e.name, e.f.UncompressedSize64)
	case (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) && e.n < e.f.UncompressedSize64:
		return fmt.Errorf("%s: zip entry ends after %d of the %d bytes it declares", e.name, e.n, e.f.UncompressedSize64)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: zip entry's compressed data is cut short", e.name)
	}
	return fmt.Errorf("%s: %v", e.name, err)
}

// finish reads past the declared end, which is where archive/zip checks
// the size and the CRC-32, and checks the CRC-32 itself too.
func (e *entryReader) finish() error {
	var one [1]byte
	n, err := io.ReadFull(e, one[:])
	if n > 0 {
		return fmt.Errorf("%s: zip entry holds more than the %d bytes it declares", e.name, e.f.UncompressedSize64)
	}
	if err != io.EOF {
		return e.err(err)
	}
	if e.crc != e.f.CRC32 {
		return fmt.Errorf("%s: CRC-32 mismatch: the entry is damaged", e.name)
	}
	return nil
}

func (e *entryReader) Close() error { return e.rc.Close() }

// readHeader reads and checks the .npy header of an entry: its length
// against maxNpyHeader and the entry, its shape and dtype against the
// entry's size.
func (z *modelReader) readHeader(name string) error {
	f := z.files[name]
	e, err := z.open(name)
	if err != nil {
		return err
	}
	defer e.Close()
	size := f.UncompressedSize64
	if size < 10 {
		return fmt.Errorf("%s: entry of %d bytes is not an .npy array", name, size)
	}
	var pre [12]byte
	if err := e.readFull(pre[:10]); err != nil {
		return err
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return fmt.Errorf("%s: not an .npy array (magic %q)", name, pre[:6])
	}
	var hlen, start uint64
	switch pre[6] {
	case 1:
		hlen, start = uint64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		if size < 12 {
			return fmt.Errorf("%s: entry of %d bytes is not an .npy array", name, size)
		}
		if err := e.readFull(pre[10:12]); err != nil {
			return err
		}
		hlen, start = uint64(binary.LittleEndian.Uint32(pre[8:12])), 12
	default:
		return fmt.Errorf("%s: .npy format version %d.%d, want 1, 2 or 3", name, pre[6], pre[7])
	}
	if hlen > maxNpyHeader {
		return fmt.Errorf("%s: .npy header length %d is over the format's %d bytes", name, hlen, maxNpyHeader)
	}
	if hlen > size-start {
		return fmt.Errorf("%s: .npy header length %d is longer than the %d-byte entry", name, hlen, size)
	}
	text := make([]byte, hlen)
	if err := e.readFull(text); err != nil {
		return err
	}
	h, err := parseNpyHeader(string(text))
	if err != nil {
		return fmt.Errorf("%s: .npy header: %v", name, err)
	}
	h.size = int64(start + hlen)
	data := size - uint64(h.size)
	n, ok := elems(h.shape, data/uint64(h.itemSize))
	if !ok || n*uint64(h.itemSize) != data {
		return fmt.Errorf("%s: .npy header declares %s of shape %s, the entry holds %d bytes of data", name, h.descr, shapeString(h.shape), data)
	}
	z.hdr[name] = h
	return nil
}

// parseNpyHeader reads the dict literal of an .npy header:
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }.
func parseNpyHeader(s string) (npyHeader, error) {
	p := &pyLit{s: strings.TrimRight(s, " \n\x00")}
	var h npyHeader
	seen := map[string]bool{}
	if !p.eat('{') {
		return h, errors.New("not a dict")
	}
	for !p.eat('}') {
		key, ok := p.str()
		if !ok || !p.eat(':') || seen[key] {
			return h, fmt.Errorf("malformed dict at byte %d", p.i)
		}
		seen[key] = true
		switch key {
		case "descr":
			if h.descr, ok = p.str(); !ok {
				return h, errors.New("descr is not a string")
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
			default:
				return h, errors.New("fortran_order is not True or False")
			}
		case "shape":
			if h.shape, ok = p.tuple(); !ok {
				return h, errors.New("shape is not a tuple of sizes")
			}
		default:
			return h, fmt.Errorf("unknown key %q", key)
		}
		if !p.eat(',') && !p.peek('}') {
			return h, fmt.Errorf("malformed dict at byte %d", p.i)
		}
	}
	if p.i != len(p.s) || len(seen) != 3 {
		return h, errors.New("want exactly descr, fortran_order and shape")
	}
	switch {
	case h.descr == "<f4":
		h.itemSize = 4
	case h.descr == "<f8" || h.descr == "<i8":
		h.itemSize = 8
	case strings.HasPrefix(h.descr, "<U"):
		n, err := strconv.ParseUint(h.descr[2:], 10, 31)
		if err != nil || n == 0 {
			return h, fmt.Errorf("descr %q", h.descr)
		}
		h.itemSize = 4 * int64(n)
	default:
		return h, fmt.Errorf("unsupported dtype %q (want <f4, <f8, <i8 or <U)", h.descr)
	}
	return h, nil
}

// pyLit scans the Python literals of an .npy header.
type pyLit struct {
	s string
	i int
}

func (p *pyLit) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *pyLit) peek(c byte) bool { p.space(); return p.i < len(p.s) && p.s[p.i] == c }

func (p *pyLit) eat(c byte) bool {
	if p.peek(c) {
		p.i++
		return true
	}
	return false
}

func (p *pyLit) word(w string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *pyLit) str() (string, bool) {
	p.space()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", false
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", false
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, true
}

// tuple reads (), (3,) or (3, 2): at most 32 non-negative sizes.
func (p *pyLit) tuple() ([]int, bool) {
	if !p.eat('(') {
		return nil, false
	}
	shape := []int{}
	for !p.eat(')') {
		p.space()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		d, err := strconv.ParseInt(p.s[p.i:j], 10, 63)
		if err != nil || len(shape) == 32 {
			return nil, false
		}
		p.i = j
		p.word("L") // Python 2 longs: (3L, 2L)
		shape = append(shape, int(d))
		if !p.eat(',') && !p.peek(')') {
			return nil, false
		}
	}
	return shape, true
}

// readKind reads the 0-d string entry "kind".
func (z *modelReader) readKind() (string, error) {
	if err := z.checkEntry("kind"); err != nil {
		return "", err
	}
	if u := z.files["kind"].UncompressedSize64; u > maxKindEntry {
		return "", fmt.Errorf("kind: entry declares %d bytes, a model kind takes at most %d", u, maxKindEntry)
	}
	if err := z.readHeader("kind"); err != nil {
		return "", err
	}
	h := z.hdr["kind"]
	if !strings.HasPrefix(h.descr, "<U") || len(h.shape) != 0 || h.itemSize > 4*maxKindChars {
		return "", fmt.Errorf("kind is %s of shape %s, want a string", h.descr, shapeString(h.shape))
	}
	s, err := z.readStrings("kind")
	if err != nil {
		return "", err
	}
	return s[0], nil
}

// checkShapes checks the headers of a kind's tensors against each other
// and returns the number of classes. image_shape, 24 bytes, is read here.
func (z *modelReader) checkShapes(kind string) (int, error) {
	h := z.hdr["image_shape"]
	if h.descr != "<i8" || len(h.shape) != 1 || h.shape[0] != 3 {
		return 0, fmt.Errorf("image_shape is %s of shape %s, want <i8 of shape (3,)", h.descr, shapeString(h.shape))
	}
	t, err := z.readTensor("image_shape")
	if err != nil {
		return 0, err
	}
	is := t.Data.([]int64)
	if is[0] <= 0 || is[1] <= 0 || is[0] > maxImageSide || is[1] > maxImageSide || (is[2] != 1 && is[2] != 3) {
		return 0, fmt.Errorf("image_shape (%d, %d, %d): want a height and width from 1 to %d and 1 or 3 channels", is[0], is[1], is[2], maxImageSide)
	}
	D := int(is[0] * is[1] * is[2])
	want := func(name string, shape ...int) error {
		if got := z.hdr[name].shape; shapeString(got) != shapeString(shape) {
			return fmt.Errorf("%s has shape %s, want %s", name, shapeString(got), shapeString(shape))
		}
		return nil
	}
	if err := want("mean", D); err != nil {
		return 0, err
	}
	if dt := z.hdr["mean"].descr; dt != "<f4" && dt != "<f8" {
		return 0, fmt.Errorf("mean is %s, want <f4 or <f8", dt)
	}
	// matrix checks a (rows, cols) weight with cols > 0 and returns cols.
	matrix := func(name string, rows int, col string) (int, error) {
		s := z.hdr[name].shape
		if len(s) != 2 || s[0] != rows || s[1] <= 0 {
			return 0, fmt.Errorf("%s has shape %s, want (%d, %s) with %s > 0", name, shapeString(s), rows, col, col)
		}
		return s[1], nil
	}
	first := "W"
	var C int
	if kind == "twolayer" {
		first = "W1"
		H, err := matrix("W1", D, "H")
		if err != nil {
			return 0, err
		}
		if C, err = matrix("W2", H, "C"); err != nil {
			return 0, err
		}
		if err := want("b1", H); err != nil {
			return 0, err
		}
		if err := want("b2", C); err != nil {
			return 0, err
		}
		for _, name := range []string{"b1", "W2", "b2"} {
			if a, b := z.hdr[name].descr, z.hdr[first].descr; a != b {
				return 0, fmt.Errorf("%s is %s, %s is %s: the weights share one dtype", name, a, first, b)
			}
		}
	} else if C, err = matrix("W", D+1, "C"); err != nil {
		return 0, err
	}
	if dt := z.hdr[first].descr; dt != "<f4" && dt != "<f8" {
		return 0, fmt.Errorf("%s is %s, want <f4 or <f8", first, dt)
	}
	if h, ok := z.hdr["classes"]; ok {
		// One string of newline-separated names, or an array of C names.
		chars := h.itemSize / 4
		switch {
		case !strings.HasPrefix(h.descr, "<U"):
			return 0, fmt.Errorf("classes is %s, want strings", h.descr)
		case len(h.shape) == 0 && chars > int64(C)*(maxClassName+1):
			return 0, fmt.Errorf("classes declares %d characters, %d class names take at most %d (%d each)", chars, C, C*(maxClassName+1), maxClassName)
		case len(h.shape) == 1 && h.shape[0] != C:
			return 0, fmt.Errorf("%d class names for %d classes", h.shape[0], C)
		case len(h.shape) == 1 && chars > maxClassName:
			return 0, fmt.Errorf("classes declares names of %d characters, at most %d", chars, maxClassName)
		case len(h.shape) > 1:
			return 0, fmt.Errorf("classes has shape %s, want () or (%d,)", shapeString(h.shape), C)
		}
	}
	return C, nil
}

// readTensor reads a numeric entry whose header was checked, verifying
// the CRC-32 and that floats are finite. A float32 mean is widened and a
// Fortran-order matrix transposed.
func (z *modelReader) readTensor(name string) (Tensor, error) {
	h := z.hdr[name]
	e, err := z.open(name)
	if err != nil {
		return Tensor{}, err
	}
	defer e.Close()
	if _, err := io.CopyN(io.Discard, e, h.size); err != nil {
		return Tensor{}, e.err(err)
	}
	n, _ := elems(h.shape, math.MaxInt64)
	t := Tensor{Name: name, Shape: append([]int(nil), h.shape...)}
	switch h.descr {
	case "<f4":
		d, err := readLE(e, int(n), 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) })
		if err != nil {
			return t, err
		}
		t.Data = d
	case "<f8":
		d, err := readLE(e, int(n), 8, func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) })
		if err != nil {
			return t, err
		}
		t.Data = d
	case "<i8":
		d, err := readLE(e, int(n), 8, func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) })
		if err != nil {
			return t, err
		}
		t.Data = d
	}
	if err := e.finish(); err != nil {
		return t, err
	}
	if h.fortran && len(h.shape) == 2 {
		t.Data = transpose(t.Data, h.shape[0], h.shape[1])
	}
	if d, ok := t.Data.([]float32); ok && name == "mean" {
		w := make([]float64, len(d))
		for i, v := range d {
			w[i] = float64(v)
		}
		t.Data = w
	}
	if i, v, bad := firstNonFinite(t.Data); bad {
		return t, fmt.Errorf("%s holds %v at %s", name, v, index(i, t.Shape))
	}
	return t, nil
}

// readLE reads n little-endian values of size bytes, 32 KiB at a time.
func readLE[T any](e *entryReader, n, size int, dec func([]byte) T) ([]T, error) {
	out := make([]T, n)
	buf := make([]byte, min(n*size, 32<<10))
	for i := 0; i < n; {
		k := min(n-i, len(buf)/size)
		if err := e.readFull(buf[:k*size]); err != nil {
			return nil, err
		}
		for j := 0; j < k; j++ {
			out[i+j] = dec(buf[j*size:])
		}
		i += k
	}
	return out, nil
}

// transpose turns a column-major rows×cols matrix into row-major order.
func transpose(data any, rows, cols int) any {
	switch d := data.(type) {
	case []float32:
		return transposed(d, rows, cols)
	case []float64:
		return transposed(d, rows, cols)
	case []int64:
		return transposed(d, rows, cols)
	}
	return data
}

func transposed[T any](d []T, rows, cols int) []T {
	out := make([]T, len(d))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			out[i*cols+j] = d[j*rows+i]
		}
	}
	return out
}

func firstNonFinite(data any) (int, float64, bool) {
	switch d := data.(type) {
	case []float32:
		for i, v := range d {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return i, f, true
			}
		}
	case []float64:
		for i, v := range d {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return i, v, true
			}
		}
	}
	return 0, 0, false
}

// index writes flat index i of shape as [i] or [row, col].
func index(i int, shape []int) string {
	if len(shape) == 2 && shape[1] > 0 {
		return fmt.Sprintf("[%d, %d]", i/shape[1], i%shape[1])
	}
	return fmt.Sprintf("[%d]", i)
}

// readStrings reads a <U entry (0-d or 1-d) as UTF-32LE strings with
// numpy's trailing NUL padding removed.
func (z *modelReader) readStrings(name string) ([]string, error) {
	h := z.hdr[name]
	e, err := z.open(name)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	if _, err := io.CopyN(io.Discard, e, h.size); err != nil {
		return nil, e.err(err)
	}
	n, _ := elems(h.shape, math.MaxInt64)
	chars := int(h.itemSize / 4)
	raw, err := readLE(e, int(n)*chars, 4, binary.LittleEndian.Uint32)
	if err != nil {
		return nil, err
	}
	if err := e.finish(); err != nil {
		return nil, err
	}
	out := make([]string, n)
	for k := range out {
		cs := raw[k*chars : (k+1)*chars]
		for len(cs) > 0 && cs[len(cs)-1] == 0 {
			cs = cs[:len(cs)-1]
		}
		var b strings.Builder
		for i, c := range cs {
			if c > unicode.MaxRune || (c >= 0xd800 && c < 0xe000) {
				return nil, fmt.Errorf("%s: character %d is not a Unicode code point (%#x)", name, i, c)
			}
			b.WriteRune(rune(c))
		}
		out[k] = b.String()
	}
	return out, nil
}

// readClasses reads the class names, C of them.
func (z *modelReader) readClasses(C int) ([]string, error) {
	s, err := z.readStrings("classes")
	if err != nil {
		return nil, err
	}
	if len(z.hdr["classes"].shape) == 0 {
		s = splitLines(s[0])
	}
	if len(s) != C {
		return nil, fmt.Errorf("%d class names for %d classes", len(s), C)
	}
	return s, nil
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
