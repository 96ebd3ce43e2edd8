package cifar

// A safe interpreter for the subset of the pickle protocol that CIFAR-10's
// python batches need (Python 2 cPickle protocol 2 as distributed, and the
// same dicts pickled by Python 3 with protocols 2 to 5). It builds plain Go
// values; the only "callables" are the few numpy/_codecs globals below,
// which are interpreted, never called. Any other opcode or global is an
// error naming the file and the offset.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Pickle values.
type (
	pyNone   struct{}
	pyStr8   []byte // a Python 2 str (BINSTRING): bytes that also act as a str
	pyTuple  []any
	pyList   struct{ items []any }
	pyDict   struct{ keys, vals []any }
	pyGlobal struct{ module, name string }
	pyDtype  struct {
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
}

// unpickle runs the pickle in r (size bytes, or -1 if unknown) and returns
// its value. name is used in errors.
func unpickle(r io.Reader, size int64, name string, alloc func(int) []byte) (any, error) {
	bufSize := 1 << 16
	if size >= 0 && size < int64(bufSize) {
		bufSize = max(int(size), 16)
	}
	u := &unpickler{r: bufio.NewReaderSize(r, bufSize), name: name, size: size, memo: map[uint64]any{}, alloc: alloc}
	return u.run()
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

// readFixed reads n <= 8 bytes into a small buffer.
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

// readN reads a payload of n declared bytes. It never allocates more than
// the input can still hold: with a known size a longer declaration is an
// error before any allocation; with an unknown size the buffer grows only
// as bytes actually arrive.
func (u *unpickler) readN(n uint64) ([]byte, error) {
	if u.size >= 0 {
		if rem := u.size - u.off; n > uint64(max(rem, 0)) {
			return nil, u.errf("string of %d bytes is longer than the %d bytes left in the file", n, max(rem, 0))
		}
	}
	if n > math.MaxInt32*8 {
		return nil, u.errf("string of %d bytes is too long", n)
	}
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
	// Unknown size: grow in chunks.
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

// readLine reads a GLOBAL operand line (at most 256 bytes, no newline).
func (u *unpickler) readLine() (string, error) {
	var b []byte
	for {
		c, err := u.readByte()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return string(b), nil
		}
		if len(b) >= 256 {
			return "", u.errf("GLOBAL operand line longer than 256 bytes")
		}
		b = append(b, c)
	}
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

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
		u.marks = append(u.marks, len(u.stack))
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
	b, err := u.readN(n)
	if err != nil {
		return err
	}
	switch op {
	case opShortBinString, opBinString:
		u.push(pyStr8(b))
	case opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8:
		u.push(b)
	default:
		if !utf8.Valid(b) {
			return u.errf("unicode string is not valid UTF-8")
		}
		u.push(string(b))
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
		u.push(v)
		return nil
	}
	v, err := u.top()
	if err != nil {
		return err
	}
	u.memo[idx] = v
	return nil
}

// container creates tuples, lists and dicts and fills them.
func (u *unpickler) container(op byte) error {
	switch op {
	case opEmptyDict, opEmptyList, opEmptyTuple:
		switch op {
		case opEmptyDict:
			u.push(&pyDict{})
		case opEmptyList:
			u.push(&pyList{})
		default:
			u.push(pyTuple{})
		}
	case opTuple, opTuple1, opTuple2, opTuple3:
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
	l.items = append(l.items, items...)
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
	for i := 0; i < len(kv); i += 2 {
		d.keys = append(d.keys, kv[i])
		d.vals = append(d.vals, kv[i+1])
	}
	return nil
}

func (u *unpickler) global(mod, name string) error {
	if _, ok := allowedGlobals[[2]string{mod, name}]; !ok {
		return u.errf("forbidden global %s.%s (only numpy array reconstruction is allowed)", mod, name)
	}
	u.push(pyGlobal{mod, name})
	return nil
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
	switch allowedGlobals[[2]string{g.module, g.name}] {
	case gReconstruct: // _reconstruct(ndarray, (0,), b'b')
		if len(a) != 3 {
			return nil, u.errf("_reconstruct takes 3 arguments, got %d", len(a))
		}
		if c, ok := a[0].(pyGlobal); !ok || allowedGlobals[[2]string{c.module, c.name}] != gNdarray {
			return nil, u.errf("_reconstruct of a %s, not numpy.ndarray", typeName(a[0]))
		}
		return &pyArray{}, nil
	case gDtype: // dtype('u1', False, True)
		if len(a) < 1 || len(a) > 3 {
			return nil, u.errf("dtype takes 1 to 3 arguments, got %d", len(a))
		}
		s, ok := asString(a[0])
		if !ok {
			return nil, u.errf("dtype of a %s, not a str", typeName(a[0]))
		}
		if _, _, err := parseDtype(s); err != nil {
			return nil, u.errf("%v", err)
		}
		return &pyDtype{str: s}, nil
	case gEncode: // _codecs.encode(str, 'latin1')
		if len(a) != 2 {
			return nil, u.errf("_codecs.encode takes 2 arguments, got %d", len(a))
		}
		s, ok1 := a[0].(string)
		enc, ok2 := asString(a[1])
		if !ok1 || !ok2 || (enc != "latin1" && enc != "latin-1" && enc != "iso-8859-1") {
			return nil, u.errf("_codecs.encode supports only (str, 'latin1')")
		}
		out := make([]byte, 0, len(s))
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
		order, ok3 := asString(a[3])
		if !ok || !ok2 || !ok3 || (order != "C" && order != "F") {
			return nil, u.errf("_frombuffer arguments are not (bytes, dtype, shape, 'C'|'F')")
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
			return nil, u.errf("array shape %v has a bad dimension", t)
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
		e, ok := asString(t[1])
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
			return u.errf("array BUILD state version %v, want 1", t[0])
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
	case pyGlobal:
		return "global " + v.(pyGlobal).module + "." + v.(pyGlobal).name
	case *pyDtype:
		return "numpy.dtype"
	case *pyArray:
		return "numpy.ndarray"
	}
	return fmt.Sprintf("%T", v)
}

// lookup returns the value of key k in d (str or bytes keys).
func (d *pyDict) lookup(k string) (any, bool) {
	for i, key := range d.keys {
		if s, ok := asString(key); ok && s == k {
			return d.vals[i], true
		}
	}
	return nil, false
}
