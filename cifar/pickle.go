package cifar

// A safe interpreter for the subset of the pickle protocol that CIFAR-10's
// python batches need (Python 2 cPickle protocol 2 as distributed, and the
// same dicts pickled by Python 3 with protocols 2 to 5). It builds plain Go
// values; the only "callables" are the few numpy/_codecs globals below,
// which are interpreted, never called. Any other opcode or global is an
// error naming the file and the offset.
//
// Memory is bounded by the input, not by what the pickle asks for: every
// value the interpreter materialises is charged against one budget before
// it is allocated (see the costs below and unpickleLimit), so an opcode
// repeated millions of times, or a memoised string fed to _codecs.encode
// again and again, ends in an error once it has cost a few times the
// input's size.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nnkern/nnkern/internal/loadlimit"
	"github.com/nnkern/nnkern/internal/textesc"
)

// Pickle values.
type (
	pyNone   struct{}
	pyStr8   []byte // a Python 2 str (BINSTRING): bytes that also act as a str
	pyTuple  []any
	pyList   struct{ items []any }
	pyDict   struct{ keys, vals []any }
	pyGlobal struct {
		module, name string
		kind         int // one of the g* constants
	}
	pyDtype struct {
		str    string // e.g. "u1", "<i8"
		endian byte   // from the BUILD state: '|', '<', '>', '=' (0 if none)
	}
	pyArray struct {
		shape   []int
		dtype   *pyDtype
		fortran bool
		data    []byte
		built   bool
	}
)

// The globals the interpreter recognises. Everything else is rejected.
const (
	gReconstruct = iota + 1
	gNdarray
	gDtype
	gEncode
	gFrombuffer
)

var allowedGlobals = map[[2]string]int{
	{"numpy.core.multiarray", "_reconstruct"}:  gReconstruct,
	{"numpy._core.multiarray", "_reconstruct"}: gReconstruct,
	{"numpy", "ndarray"}:                       gNdarray,
	{"numpy", "dtype"}:                         gDtype,
	{"_codecs", "encode"}:                      gEncode,
	{"numpy.core.numeric", "_frombuffer"}:      gFrombuffer,
	{"numpy._core.numeric", "_frombuffer"}:     gFrombuffer,
}

// The opcodes the interpreter implements (names as in Python's pickletools).
const (
	opProto          = 0x80
	opFrame          = 0x95
	opStop           = '.'
	opMark           = '('
	opNone           = 'N'
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opBinInt2        = 'M'
	opLong1          = 0x8a
	opShortBinString = 'U'
	opBinString      = 'T'
	opShortBinBytes  = 'C'
	opBinBytes       = 'B'
	opBinBytes8      = 0x8e
	opByteArray8     = 0x96
	opShortBinUni    = 0x8c
	opBinUnicode     = 'X'
	opBinUnicode8    = 0x8d
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opMemoize        = 0x94
	opBinGet         = 'h'
	opLongBinGet     = 'j'
	opEmptyDict      = '}'
	opEmptyList      = ']'
	opEmptyTuple     = ')'
	opTuple          = 't'
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opAppend         = 'a'
	opAppends        = 'e'
	opSetItem        = 's'
	opSetItems       = 'u'
	opGlobal         = 'c'
	opStackGlobal    = 0x93
	opReduce         = 'R'
	opBuild          = 'b'
)

var opNames = map[byte]string{
	opProto: "PROTO", opFrame: "FRAME", opStop: "STOP", opMark: "MARK",
	opNone: "NONE", opNewTrue: "NEWTRUE", opNewFalse: "NEWFALSE",
	opBinInt: "BININT", opBinInt1: "BININT1", opBinInt2: "BININT2", opLong1: "LONG1",
	opShortBinString: "SHORT_BINSTRING", opBinString: "BINSTRING",
	opShortBinBytes: "SHORT_BINBYTES", opBinBytes: "BINBYTES", opBinBytes8: "BINBYTES8", opByteArray8: "BYTEARRAY8",
	opShortBinUni: "SHORT_BINUNICODE", opBinUnicode: "BINUNICODE", opBinUnicode8: "BINUNICODE8",
	opBinPut: "BINPUT", opLongBinPut: "LONG_BINPUT", opMemoize: "MEMOIZE", opBinGet: "BINGET", opLongBinGet: "LONG_BINGET",
	opEmptyDict: "EMPTY_DICT", opEmptyList: "EMPTY_LIST", opEmptyTuple: "EMPTY_TUPLE",
	opTuple: "TUPLE", opTuple1: "TUPLE1", opTuple2: "TUPLE2", opTuple3: "TUPLE3",
	opAppend: "APPEND", opAppends: "APPENDS", opSetItem: "SETITEM", opSetItems: "SETITEMS",
	opGlobal: "GLOBAL", opStackGlobal: "STACK_GLOBAL", opReduce: "REDUCE", opBuild: "BUILD",
}

// What materialising costs, in bytes charged against the budget. They are
// what the Go heap spends, growth of the stack, containers and memo
// included (TestPickleChargesCoverAllocations measures each opcode against
// them: an amortised count lands between half and once the charges, and a
// slice or map just past a doubling can reach twice them):
//
//   - a string, bytes or unicode value: its length, plus valueCost;
//   - any other value an opcode creates (dict, list, tuple, int, global,
//     array, dtype): valueCost, which is refCost plus its own allocation
//     (at most a pyArray and its shape, 144 bytes);
//   - a reference pushed again by a memo GET: refCost, the 16-byte interface
//     slot on the stack and again in the list, tuple or dict it ends in,
//     each doubled for growth, and the copy a MARK-delimited pop makes (the
//     object itself is shared, not copied, so it costs nothing more);
//   - a memo entry: memoCost (a Go map entry with its share of the table,
//     about 110 bytes over the growth of a large map);
//   - a MARK: markCost (an int on the mark stack, doubled for growth and
//     for the capacity a doubling leaves unused).
const (
	refCost   = 80
	valueCost = refCost + 144
	memoCost  = 128
	markCost  = 32
)

// The bound a pickle of known size gets on top of the caller's limit: a
// pickle materialises its strings (at most its own size), _codecs.encode
// results (at most the size of the str they encode) and values at
// valueCost each. Python 3's protocol-2 pickles of the CIFAR dicts, which
// carry the pixels as a UTF-8 str then encode them, need about 2.5 bytes
// per input byte in the worst case; the slack covers the ~40,000 values
// (labels, filenames, memo entries) of a batch.
const (
	sizeFactor = 3
	sizeSlack  = 16 << 20
)

// bigString is the size from which string payloads go through the
// unpickler's alloc hook (so a loader can reuse one scratch buffer).
const bigString = 1 << 20

type unpickler struct {
	r     *bufio.Reader
	name  string
	off   int64 // bytes consumed so far
	size  int64 // total input size, or -1 if unknown
	stack []any
	marks []int
	memo  map[uint64]any
	alloc func(n int) []byte // optional: buffer for payloads >= bigString
	opOff int64              // offset of the opcode being executed
	op    byte               // the opcode being executed
	line  []byte             // scratch for GLOBAL operand lines

	limit     int64 // the most bytes this pickle may materialise
	bySize    bool  // limit is the size bound, not the caller's
	used      int64 // bytes charged so far
	nValues   int64 // values pushed so far (reported when over the limit)
	nStrBytes int64 // string bytes materialised so far (likewise)
}

// unpickle runs the pickle in r (size bytes, or -1 if unknown) under the
// load budget (loadlimit.Budget(0)) and returns its value. name is used in
// errors.
func unpickle(r io.Reader, size int64, name string, alloc func(int) []byte) (any, error) {
	budget, err := loadlimit.Budget(0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return unpickleLimit(r, size, name, alloc, budget)
}

// unpickleLimit runs the pickle in r and returns its value, materialising
// at most limit bytes. The contract:
//
//   - size is the real size of the input (a file's or tar member's size,
//     not anything the pickle declares), or -1 if unknown; name is used in
//     errors; alloc, if not nil, supplies the buffer of each payload of at
//     least bigString bytes (it may reuse one buffer across calls, so the
//     caller must be done with one result before the next call).
//   - limit is the most bytes this pickle may materialise: a loader passes
//     what is left of its load budget (loadlimit.Budget); limit <= 0 means
//     loadlimit.Budget(0). With a known size the interpreter tightens it to
//     sizeFactor*size + sizeSlack, what a legitimate pickle of that size
//     can need.
//   - Strings are charged their length (twice it when the size is
//     unknown), values and memo entries the costs above, each before it is
//     allocated. The first charge over the limit ends the run with a
//     one-line error naming the file, the offset and opcode, what it asked
//     for and the limit (with NNKERN_LOAD_LIMIT when the caller's limit,
//     not the size bound, refused it).
//   - What the Go heap spends on one call, transient allocations included,
//     stays within twice the charges plus the 64 KiB read buffer
//     (TestPickleChargesCoverAllocations and FuzzPickle check it), so
//     within about twice the limit whatever the input.
func unpickleLimit(r io.Reader, size int64, name string, alloc func(int) []byte, limit int64) (any, error) {
	if limit <= 0 {
		var err error
		if limit, err = loadlimit.Budget(0); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return newUnpickler(r, size, name, alloc, limit).run()
}

// newUnpickler returns an interpreter with limit tightened by the size bound.
func newUnpickler(r io.Reader, size int64, name string, alloc func(int) []byte, limit int64) *unpickler {
	bufSize := 1 << 16
	if size >= 0 && size < int64(bufSize) {
		bufSize = max(int(size), 16)
	}
	u := &unpickler{r: bufio.NewReaderSize(r, bufSize), name: name, size: size, memo: map[uint64]any{}, alloc: alloc, limit: limit}
	if size >= 0 && size <= (math.MaxInt64-sizeSlack)/sizeFactor && sizeFactor*size+sizeSlack < limit {
		u.limit, u.bySize = sizeFactor*size+sizeSlack, true
	}
	return u
}

// charge counts n bytes the current opcode is about to materialise. It is
// called before the allocation it stands for.
func (u *unpickler) charge(n uint64) error {
	if n <= uint64(u.limit-u.used) {
		u.used += int64(n)
		return nil
	}
	var limit string
	if u.bySize {
		limit = fmt.Sprintf("%d-byte limit for a %d-byte pickle (%d× its size + %d MiB)", u.limit, u.size, sizeFactor, sizeSlack>>20)
	} else {
		limit = fmt.Sprintf("%d-byte load limit (%s)", u.limit, loadlimit.EnvVar)
	}
	return u.errf("%s asks for %d bytes more, over the %s, after %d values and %d string bytes",
		opName(u.op), n, limit, u.nValues, u.nStrBytes)
}

func opName(op byte) string {
	if s, ok := opNames[op]; ok {
		return s
	}
	return fmt.Sprintf("opcode 0x%02x", op)
}

func (u *unpickler) errf(format string, args ...any) error {
	return fmt.Errorf("%s: pickle offset %d: %s", u.name, u.opOff, fmt.Sprintf(format, args...))
}

func (u *unpickler) readByte() (byte, error) {
	b, err := u.r.ReadByte()
	if err != nil {
		return 0, u.eof(err)
	}
	u.off++
	return b, nil
}

func (u *unpickler) eof(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return u.errf("truncated pickle (input ends at offset %d)", u.off)
	}
	return fmt.Errorf("%s: reading pickle at offset %d: %w", u.name, u.off, err)
}

// readFixed reads len(buf) bytes.
func (u *unpickler) readFixed(buf []byte) error {
	n, err := io.ReadFull(u.r, buf)
	u.off += int64(n)
	if err != nil {
		return u.eof(err)
	}
	return nil
}

func (u *unpickler) readU32() (uint32, error) {
	var b [4]byte
	if err := u.readFixed(b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

func (u *unpickler) readU64() (uint64, error) {
	var b [8]byte
	if err := u.readFixed(b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// checkLeft refuses a payload of n declared bytes that is longer than what
// the input can still hold (with a known size) or than any string may be.
func (u *unpickler) checkLeft(n uint64) error {
	if u.size >= 0 {
		if rem := u.size - u.off; n > uint64(max(rem, 0)) {
			return u.errf("string of %d bytes is longer than the %d bytes left in the file", n, max(rem, 0))
		}
	}
	if n > math.MaxInt32*8 {
		return u.errf("string of %d bytes is too long", n)
	}
	return nil
}

// readN reads a payload of n bytes, already checked and charged. With an
// unknown size the buffer grows only as bytes actually arrive, doubling,
// which allocates up to twice n on the way.
func (u *unpickler) readN(n uint64) ([]byte, error) {
	if u.size >= 0 {
		var buf []byte
		if n >= bigString && u.alloc != nil {
			buf = u.alloc(int(n))
		}
		if buf == nil {
			buf = make([]byte, n)
		}
		if err := u.readFixed(buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	buf := make([]byte, 0, min(n, 1<<16))
	for uint64(len(buf)) < n {
		// Grow by at most the bytes already read (doubling), so memory
		// follows the input that actually arrives.
		chunk := int(min(n-uint64(len(buf)), uint64(max(len(buf), 1<<16))))
		start := len(buf)
		buf = slices.Grow(buf, chunk)[:start+chunk]
		if err := u.readFixed(buf[start:]); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// readStr reads a payload of n bytes, already checked and charged, into a
// string without the copy a string(b) conversion would make (a Python 3
// protocol-2 pickle carries its pixels as one such string). With an
// unknown size it reads through readN and copies.
func (u *unpickler) readStr(n uint64) (string, error) {
	if u.size < 0 {
		b, err := u.readN(n)
		return string(b), err
	}
	var sb strings.Builder
	sb.Grow(int(n))
	for left := n; left > 0; {
		p, err := u.r.Peek(int(min(left, uint64(u.r.Size()))))
		sb.Write(p)
		u.r.Discard(len(p))
		u.off += int64(len(p))
		left -= uint64(len(p))
		if err != nil && left > 0 {
			return "", u.eof(err)
		}
	}
	return sb.String(), nil
}

// readLine reads a GLOBAL operand line (at most 256 bytes, no newline).
func (u *unpickler) readLine() (string, error) {
	u.line = u.line[:0]
	for {
		c, err := u.readByte()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return string(u.line), nil
		}
		if len(u.line) >= 256 {
			return "", u.errf("GLOBAL operand line longer than 256 bytes")
		}
		u.line = append(u.line, c)
	}
}

// push puts v on the stack; the caller has charged for it.
func (u *unpickler) push(v any) {
	u.nValues++
	u.stack = append(grow(u.stack, 1), v)
}

// grow returns s with room for n more items, at least doubling its
// capacity when it must grow: append alone grows a large slice by 1.25×,
// which allocates about five times the final size on the way, and the
// costs above count on twice.
func grow[T any](s []T, n int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	return slices.Grow(s, max(n, len(s)))
}

func (u *unpickler) pop() (any, error) {
	n := len(u.stack)
	if n == 0 || (len(u.marks) > 0 && u.marks[len(u.marks)-1] == n) {
		return nil, u.errf("stack underflow")
	}
	v := u.stack[n-1]
	u.stack = u.stack[:n-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	n := len(u.stack)
	if n == 0 || (len(u.marks) > 0 && u.marks[len(u.marks)-1] == n) {
		return nil, u.errf("stack underflow")
	}
	return u.stack[n-1], nil
}

// popMark pops everything above the last MARK.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, u.errf("no MARK on the stack")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	clear(u.stack[m:]) // the stack must not keep popped values alive
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) popN(n int) ([]any, error) {
	items := make([]any, n)
	for i := n - 1; i >= 0; i-- {
		v, err := u.pop()
		if err != nil {
			return nil, err
		}
		items[i] = v
	}
	return items, nil
}

// run executes opcodes until STOP. Each group of opcodes has its method
// below; run only reads the opcode and dispatches.
func (u *unpickler) run() (any, error) {
	for {
		u.opOff = u.off
		op, err := u.readByte()
		if err != nil {
			return nil, err
		}
		u.op = op
		switch op {
		case opStop:
			return u.stop()
		case opProto, opFrame, opMark:
			err = u.framing(op)
		case opNone, opNewTrue, opNewFalse, opBinInt, opBinInt1, opBinInt2, opLong1:
			err = u.scalar(op)
		case opShortBinString, opBinString, opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8,
			opShortBinUni, opBinUnicode, opBinUnicode8:
			err = u.stringOp(op)
		case opBinPut, opLongBinPut, opMemoize, opBinGet, opLongBinGet:
			err = u.memoOp(op)
		case opEmptyDict, opEmptyList, opEmptyTuple, opTuple, opTuple1, opTuple2, opTuple3,
			opAppend, opAppends, opSetItem, opSetItems:
			err = u.container(op)
		case opGlobal, opStackGlobal, opReduce, opBuild:
			err = u.object(op)
		default:
			err = u.errf("unsupported pickle opcode 0x%02x (%s)", op, strconv.QuoteRune(rune(op)))
		}
		if err != nil {
			return nil, err
		}
	}
}

// stop ends the pickle: exactly one value on the stack, no open MARK.
func (u *unpickler) stop() (any, error) {
	if len(u.marks) != 0 {
		return nil, u.errf("STOP with an open MARK")
	}
	v, err := u.pop()
	if err != nil {
		return nil, err
	}
	if len(u.stack) != 0 {
		return nil, u.errf("STOP leaves %d values on the stack", len(u.stack))
	}
	return v, nil
}

// framing runs PROTO, FRAME and MARK.
func (u *unpickler) framing(op byte) error {
	switch op {
	case opProto:
		p, err := u.readByte()
		if err != nil {
			return err
		}
		if p > 5 {
			return u.errf("unsupported pickle protocol %d", p)
		}
	case opFrame: // a length hint; frames are read through
		n, err := u.readU64()
		if err != nil {
			return err
		}
		if u.size >= 0 && n > uint64(u.size-u.off) {
			return u.errf("FRAME of %d bytes is longer than the %d bytes left in the file", n, u.size-u.off)
		}
	case opMark:
		if err := u.charge(markCost); err != nil {
			return err
		}
		u.marks = append(grow(u.marks, 1), len(u.stack))
	}
	return nil
}

// scalar pushes None, a bool or an int.
func (u *unpickler) scalar(op byte) error {
	var v any
	switch op {
	case opNone:
		v = pyNone{}
	case opNewTrue:
		v = true
	case opNewFalse:
		v = false
	case opBinInt:
		x, err := u.readU32()
		if err != nil {
			return err
		}
		v = int64(int32(x))
	case opBinInt1:
		x, err := u.readByte()
		if err != nil {
			return err
		}
		v = int64(x)
	case opBinInt2:
		var b [2]byte
		if err := u.readFixed(b[:]); err != nil {
			return err
		}
		v = int64(binary.LittleEndian.Uint16(b[:]))
	case opLong1:
		n, err := u.readByte()
		if err != nil {
			return err
		}
		if n > 8 {
			return u.errf("LONG1 of %d bytes does not fit in 64 bits", n)
		}
		var b [8]byte
		if err := u.readFixed(b[:n]); err != nil {
			return err
		}
		if n > 0 && n < 8 && b[n-1]&0x80 != 0 { // sign-extend
			for i := int(n); i < 8; i++ {
				b[i] = 0xff
			}
		}
		v = int64(binary.LittleEndian.Uint64(b[:]))
	}
	if err := u.charge(valueCost); err != nil {
		return err
	}
	u.push(v)
	return nil
}

// stringOp reads a str, bytes or unicode payload and pushes it.
func (u *unpickler) stringOp(op byte) error {
	var n uint64
	switch op {
	case opShortBinString, opShortBinBytes, opShortBinUni:
		c, err := u.readByte()
		if err != nil {
			return err
		}
		n = uint64(c)
	case opBinString, opBinBytes, opBinUnicode:
		v, err := u.readU32()
		if err != nil {
			return err
		}
		if op == opBinString && int32(v) < 0 {
			return u.errf("BINSTRING with negative length %d", int32(v))
		}
		n = uint64(v)
	default:
		var err error
		if n, err = u.readU64(); err != nil {
			return err
		}
	}
	if err := u.checkLeft(n); err != nil {
		return err
	}
	cost := n
	if u.size < 0 {
		cost = 2 * n // read in doubling steps (readN)
	}
	if err := u.charge(cost + valueCost); err != nil {
		return err
	}
	u.nStrBytes += int64(n)
	switch op {
	case opShortBinUni, opBinUnicode, opBinUnicode8:
		s, err := u.readStr(n)
		if err != nil {
			return err
		}
		if !utf8.ValidString(s) {
			return u.errf("unicode string is not valid UTF-8")
		}
		u.push(s)
		return nil
	}
	b, err := u.readN(n)
	if err != nil {
		return err
	}
	if op == opShortBinString || op == opBinString {
		u.push(pyStr8(b))
	} else {
		u.push(b)
	}
	return nil
}

// memoOp stores the top of the stack in the memo or pushes a memo entry.
func (u *unpickler) memoOp(op byte) error {
	var idx uint64
	switch op {
	case opBinPut, opBinGet:
		c, err := u.readByte()
		if err != nil {
			return err
		}
		idx = uint64(c)
	case opLongBinPut, opLongBinGet:
		v, err := u.readU32()
		if err != nil {
			return err
		}
		idx = uint64(v)
	default: // MEMOIZE
		idx = uint64(len(u.memo))
	}
	if op == opBinGet || op == opLongBinGet {
		v, ok := u.memo[idx]
		if !ok {
			return u.errf("memo miss: index %d was never stored", idx)
		}
		// The object is shared, not copied: only the reference costs.
		if err := u.charge(refCost); err != nil {
			return err
		}
		u.push(v)
		return nil
	}
	v, err := u.top()
	if err != nil {
		return err
	}
	if err := u.charge(memoCost); err != nil {
		return err
	}
	u.memo[idx] = v
	return nil
}

// container creates tuples, lists and dicts and fills them.
func (u *unpickler) container(op byte) error {
	switch op {
	case opEmptyDict, opEmptyList, opEmptyTuple:
		if err := u.charge(valueCost); err != nil {
			return err
		}
		switch op {
		case opEmptyDict:
			u.push(&pyDict{})
		case opEmptyList:
			u.push(&pyList{})
		default:
			u.push(pyTuple{})
		}
	case opTuple, opTuple1, opTuple2, opTuple3:
		// The items were charged a reference each when pushed; the
		// tuple itself is a new value.
		if err := u.charge(valueCost); err != nil {
			return err
		}
		var items []any
		var err error
		if op == opTuple {
			items, err = u.popMark()
		} else {
			items, err = u.popN(int(op-opTuple1) + 1)
		}
		if err != nil {
			return err
		}
		u.push(pyTuple(items))
	case opAppend:
		v, err := u.pop()
		if err != nil {
			return err
		}
		return u.appendTo([]any{v})
	case opAppends:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		return u.appendTo(items)
	case opSetItem:
		kv, err := u.popN(2)
		if err != nil {
			return err
		}
		return u.setItems(kv)
	case opSetItems:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		if len(items)%2 != 0 {
			return u.errf("SETITEMS with an odd number (%d) of items", len(items))
		}
		return u.setItems(items)
	}
	return nil
}

// object runs GLOBAL, STACK_GLOBAL, REDUCE and BUILD: the numpy arrays and
// _codecs.encode.
func (u *unpickler) object(op byte) error {
	switch op {
	case opGlobal:
		mod, err := u.readLine()
		if err != nil {
			return err
		}
		name, err := u.readLine()
		if err != nil {
			return err
		}
		return u.global(mod, name)
	case opStackGlobal:
		mn, err := u.popN(2)
		if err != nil {
			return err
		}
		mod, ok1 := mn[0].(string)
		name, ok2 := mn[1].(string)
		if !ok1 || !ok2 {
			return u.errf("STACK_GLOBAL operands are %s and %s, not str", typeName(mn[0]), typeName(mn[1]))
		}
		return u.global(mod, name)
	case opReduce:
		fa, err := u.popN(2)
		if err != nil {
			return err
		}
		v, err := u.reduce(fa[0], fa[1])
		if err != nil {
			return err
		}
		u.push(v)
	case opBuild:
		state, err := u.pop()
		if err != nil {
			return err
		}
		obj, err := u.top()
		if err != nil {
			return err
		}
		return u.build(obj, state)
	}
	return nil
}

func (u *unpickler) appendTo(items []any) error {
	t, err := u.top()
	if err != nil {
		return err
	}
	l, ok := t.(*pyList)
	if !ok {
		return u.errf("APPEND(S) to a %s, not a list", typeName(t))
	}
	l.items = append(grow(l.items, len(items)), items...)
	return nil
}

func (u *unpickler) setItems(kv []any) error {
	t, err := u.top()
	if err != nil {
		return err
	}
	d, ok := t.(*pyDict)
	if !ok {
		return u.errf("SETITEM(S) on a %s, not a dict", typeName(t))
	}
	d.keys, d.vals = grow(d.keys, len(kv)/2), grow(d.vals, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		d.keys = append(d.keys, kv[i])
		d.vals = append(d.vals, kv[i+1])
	}
	return nil
}

func (u *unpickler) global(mod, name string) error {
	kind, ok := allowedGlobals[[2]string{mod, name}]
	if !ok {
		return u.errf("forbidden global %s.%s (only numpy array reconstruction is allowed)", quoteName(mod), quoteName(name))
	}
	if err := u.charge(valueCost); err != nil {
		return err
	}
	u.push(pyGlobal{mod, name, kind})
	return nil
}

// quoteName returns a name from the file fit for an error message: control
// characters escaped, cut to 64 bytes.
func quoteName(s string) string {
	const max = 64
	if len(s) <= max {
		return textesc.Escape(s)
	}
	return fmt.Sprintf("%s… (%d bytes)", textesc.Escape(s[:max]), len(s))
}

func (u *unpickler) reduce(f, args any) (any, error) {
	g, ok := f.(pyGlobal)
	if !ok {
		return nil, u.errf("REDUCE on a %s, not a recognised global", typeName(f))
	}
	a, ok := args.(pyTuple)
	if !ok {
		return nil, u.errf("REDUCE %s.%s with %s arguments, not a tuple", g.module, g.name, typeName(args))
	}
	switch g.kind {
	case gReconstruct: // _reconstruct(ndarray, (0,), b'b')
		if len(a) != 3 {
			return nil, u.errf("_reconstruct takes 3 arguments, got %d", len(a))
		}
		if c, ok := a[0].(pyGlobal); !ok || c.kind != gNdarray {
			return nil, u.errf("_reconstruct of a %s, not numpy.ndarray", typeName(a[0]))
		}
		if err := u.charge(valueCost); err != nil {
			return nil, err
		}
		return &pyArray{}, nil
	case gDtype: // dtype('u1', False, True)
		if len(a) < 1 || len(a) > 3 {
			return nil, u.errf("dtype takes 1 to 3 arguments, got %d", len(a))
		}
		s, ok := asShortString(a[0])
		if !ok {
			return nil, u.errf("dtype of a %s, not a short str", typeName(a[0]))
		}
		if _, _, err := parseDtype(s); err != nil {
			return nil, u.errf("%v", err)
		}
		if err := u.charge(valueCost); err != nil {
			return nil, err
		}
		return &pyDtype{str: s}, nil
	case gEncode: // _codecs.encode(str, 'latin1')
		if len(a) != 2 {
			return nil, u.errf("_codecs.encode takes 2 arguments, got %d", len(a))
		}
		s, ok1 := a[0].(string)
		enc, ok2 := asShortString(a[1])
		if !ok1 || !ok2 || (enc != "latin1" && enc != "latin-1" && enc != "iso-8859-1") {
			return nil, u.errf("_codecs.encode supports only (str, 'latin1')")
		}
		// Each call makes a new bytes object, even of a memoised str:
		// charged in full, so re-applying it cannot amplify the input.
		n := utf8.RuneCountInString(s)
		if err := u.charge(uint64(n) + valueCost); err != nil {
			return nil, err
		}
		u.nStrBytes += int64(n)
		out := make([]byte, 0, n)
		for _, r := range s {
			if r > 255 {
				return nil, u.errf("_codecs.encode: character U+%04X is not latin-1", r)
			}
			out = append(out, byte(r))
		}
		return out, nil
	case gFrombuffer: // _frombuffer(buf, dtype, shape, order)
		if len(a) != 4 {
			return nil, u.errf("_frombuffer takes 4 arguments, got %d", len(a))
		}
		data, ok := asBytes(a[0])
		dt, ok2 := a[1].(*pyDtype)
		order, ok3 := asShortString(a[3])
		if !ok || !ok2 || !ok3 || (order != "C" && order != "F") {
			return nil, u.errf("_frombuffer arguments are not (bytes, dtype, shape, 'C'|'F')")
		}
		if err := u.charge(valueCost); err != nil {
			return nil, err
		}
		arr := &pyArray{dtype: dt, fortran: order == "F", data: data, built: true}
		var err error
		if arr.shape, err = u.shape(a[2]); err != nil {
			return nil, err
		}
		return arr, u.checkArray(arr)
	}
	return nil, u.errf("REDUCE on %s.%s, which is not callable", g.module, g.name)
}

func (u *unpickler) shape(v any) ([]int, error) {
	t, ok := v.(pyTuple)
	if !ok {
		return nil, u.errf("array shape is a %s, not a tuple", typeName(v))
	}
	if len(t) > 8 {
		return nil, u.errf("array has %d dimensions", len(t))
	}
	shape := make([]int, len(t))
	for i, d := range t {
		n, ok := d.(int64)
		if !ok || n < 0 || n > math.MaxInt32 {
			return nil, u.errf("array shape %s has a bad dimension", describe(t))
		}
		shape[i] = int(n)
	}
	return shape, nil
}

func (u *unpickler) checkArray(a *pyArray) error {
	_, size, err := parseDtype(a.dtype.str)
	if err != nil {
		return u.errf("%v", err)
	}
	n := uint64(size)
	for _, d := range a.shape {
		n *= uint64(d)
		if n > 1<<40 {
			return u.errf("array shape %v is too large", a.shape)
		}
	}
	if n != uint64(len(a.data)) {
		return u.errf("array shape %v of %s needs %d bytes but the data has %d", a.shape, a.dtype.str, n, len(a.data))
	}
	return nil
}

func (u *unpickler) build(obj, state any) error {
	switch o := obj.(type) {
	case *pyDtype: // (3, '|', None, None, None, -1, -1, 0)
		t, ok := state.(pyTuple)
		if !ok || len(t) < 2 {
			return u.errf("dtype BUILD state is a %s, not a tuple", typeName(state))
		}
		e, ok := asShortString(t[1])
		if !ok || len(e) != 1 || (e[0] != '|' && e[0] != '<' && e[0] != '>' && e[0] != '=') {
			return u.errf("dtype BUILD state has no byte order")
		}
		o.endian = e[0]
		return nil
	case *pyArray: // (1, shape, dtype, is_fortran, data)
		if o.built {
			return u.errf("array BUILD twice")
		}
		t, ok := state.(pyTuple)
		if !ok || len(t) != 5 {
			return u.errf("array BUILD state is not a 5-tuple")
		}
		if v, ok := t[0].(int64); !ok || v != 1 {
			return u.errf("array BUILD state version %s, want 1", describe(t[0]))
		}
		var err error
		if o.shape, err = u.shape(t[1]); err != nil {
			return err
		}
		if o.dtype, ok = t[2].(*pyDtype); !ok {
			return u.errf("array BUILD state dtype is a %s", typeName(t[2]))
		}
		switch f := t[3].(type) {
		case bool:
			o.fortran = f
		case int64:
			o.fortran = f != 0
		default:
			return u.errf("array BUILD state is_fortran is a %s", typeName(t[3]))
		}
		if o.data, ok = asBytes(t[4]); !ok {
			return u.errf("array BUILD state data is a %s, not bytes", typeName(t[4]))
		}
		o.built = true
		return u.checkArray(o)
	}
	return u.errf("BUILD on a %s", typeName(obj))
}

// parseDtype accepts numpy integer dtype strings: an optional byte order
// ('|', '<', '=', '>' is rejected), a kind (u, i, b) and an item size.
func parseDtype(s string) (kind byte, size int, err error) {
	t := s
	if len(t) > 0 && (t[0] == '|' || t[0] == '<' || t[0] == '=') {
		t = t[1:]
	}
	if len(t) == 2 && (t[0] == 'u' || t[0] == 'i') && (t[1] == '1' || t[1] == '2' || t[1] == '4' || t[1] == '8') {
		return t[0], int(t[1] - '0'), nil
	}
	if t == "b1" {
		return 'u', 1, nil
	}
	return 0, 0, fmt.Errorf("unsupported dtype %q (only little-endian integers)", s)
}

// asString returns a str, Python 2 str or bytes value as a Go string (a
// copy for the latter two).
func asString(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case pyStr8:
		return string(s), true
	case []byte:
		return string(s), true
	}
	return "", false
}

// asShortString is asString for operands that are codes (a dtype, an
// encoding, a byte order): longer than 16 bytes is no such code, and is
// refused without copying a possibly huge memoised string.
func asShortString(v any) (string, bool) {
	const max = 16
	switch s := v.(type) {
	case string:
		return s, len(s) <= max
	case pyStr8:
		if len(s) <= max {
			return string(s), true
		}
	case []byte:
		if len(s) <= max {
			return string(s), true
		}
	}
	return "", false
}

func asBytes(v any) ([]byte, bool) {
	switch s := v.(type) {
	case []byte:
		return s, true
	case pyStr8:
		return s, true
	case string: // Python 3 reading a py2 str as latin1 would give this
		return nil, false
	}
	return nil, false
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case pyNone:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case string:
		return "str"
	case pyStr8:
		return "str (bytes)"
	case []byte:
		return "bytes"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case pyGlobal: // only allowed globals exist, so the names are ours
		return "global " + v.(pyGlobal).module + "." + v.(pyGlobal).name
	case *pyDtype:
		return "numpy.dtype"
	case *pyArray:
		return "numpy.ndarray"
	}
	return fmt.Sprintf("%T", v)
}

// describe renders a value for an error message without any string from the
// file: ints as numbers, tuples as (a, b), everything else by its type.
func describe(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case pyTuple:
		var b strings.Builder
		b.WriteByte('(')
		for i, it := range x {
			if i == 8 {
				fmt.Fprintf(&b, ", … %d items", len(x))
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			if _, nested := it.(pyTuple); nested {
				b.WriteString("tuple")
			} else {
				b.WriteString(describe(it))
			}
		}
		b.WriteByte(')')
		return b.String()
	}
	return typeName(v)
}

// lookup returns the value of key k in d (str or bytes keys). The keys are
// compared in place: a dict of many memoised multi-megabyte keys must not
// cost a copy of each.
func (d *pyDict) lookup(k string) (any, bool) {
	for i, key := range d.keys {
		var eq bool
		switch s := key.(type) {
		case string:
			eq = s == k
		case pyStr8:
			eq = string(s) == k
		case []byte:
			eq = string(s) == k
		}
		if eq {
			return d.vals[i], true
		}
	}
	return nil, false
}
