package cifar

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nnkern/nnkern/internal/testenv"
)

func writePythonBytes(t testing.TB, s *Split) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WritePython(&buf, s, "training batch 1 of 5", nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func parseBytes(b []byte) (*pyBatch, error) {
	return parsePythonBatch(bytes.NewReader(b), int64(len(b)), "batch.pkl", nil, 0)
}

func checkBatch(t *testing.T, what string, b *pyBatch, s *Split) {
	t.Helper()
	if b.n != s.N {
		t.Fatalf("%s: %d images, want %d", what, b.n, s.N)
	}
	hwc := make([]byte, len(b.chw))
	chwToHWC(hwc, b.chw, b.n)
	if !bytes.Equal(hwc, s.X) {
		t.Fatalf("%s: pixels differ", what)
	}
	for i, l := range b.labels {
		if l != int64(s.Y[i]) {
			t.Fatalf("%s: label %d is %d, want %d", what, i, l, s.Y[i])
		}
	}
}

func TestPickleRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 7, 300, 1001} { // 300: memo passes 255; 1001: APPENDS groups of 1000 plus one APPEND
		ds := randomDataset(uint64(n), n, 0)
		b := writePythonBytes(t, &ds.Train)
		got, err := parseBytes(b)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		checkBatch(t, fmt.Sprint("n=", n), got, &ds.Train)
	}
}

// TestPickleOfficialLayout checks WritePython's opcode sequence against the
// layout the issue describes for the official files.
func TestPickleOfficialLayout(t *testing.T) {
	ds := randomDataset(9, 300, 0)
	b := writePythonBytes(t, &ds.Train)
	for _, want := range [][]byte{
		[]byte("\x80\x02}q\x01(U\x0bbatch_labelq\x02"),
		[]byte("cnumpy.core.multiarray\n_reconstruct\n"),
		[]byte("cnumpy\nndarray\n"),
		[]byte("K\x00\x85"),
		[]byte("(K\x01M,\x01M\x00\x0c\x86"), // (1, (300, 3072)
		[]byte("cnumpy\ndtype\n"),
		[]byte("U\x02u1"),
		[]byte("K\x03U\x01|"),
		[]byte("NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t"),
		[]byte("b\x89T\x00\x10\x0e\x00"), // BUILD, False, BINSTRING of 921600 bytes
		[]byte("U\x09filenames"),
		[]byte("r\x00\x01\x00\x00"), // LONG_BINPUT 256
	} {
		if !bytes.Contains(b, want) {
			t.Errorf("WritePython output lacks %q", want)
		}
	}
	if i, j := bytes.Index(b, []byte("U\x06labels")), bytes.Index(b, []byte("U\x04data")); i < 0 || j < i {
		t.Errorf("keys not in the official order")
	}
}

const numpyPickles = `
import sys, pickle, base64, json
import numpy as np
raw = sys.stdin.buffer.read()
n = len(raw) // 3073
a = np.frombuffer(raw, np.uint8).reshape(n, 3073)
labels = [int(v) for v in a[:, 0]]
data = np.ascontiguousarray(a[:, 1:])
out = {}
for p in (2, 3, 4, 5):
    for kt in ('str', 'bytes'):
        k = (lambda s: s) if kt == 'str' else (lambda s: s.encode())
        d = {k('batch_label'): 'training batch 1 of 5', k('labels'): labels, k('data'): data,
             k('filenames'): ['f%d.png' % i for i in range(n)]}
        out['p%d_%s' % (p, kt)] = base64.b64encode(pickle.dumps(d, protocol=p)).decode()
    d = {'data': np.asfortranarray(data), 'labels': np.array(labels, dtype=np.int64)}
    out['p%d_fortran_arraylabels' % p] = base64.b64encode(pickle.dumps(d, protocol=p)).decode()
print(json.dumps(out))
`

// TestPicklePython3 loads the same dict pickled by Python 3 with numpy,
// protocols 2 to 5, str and bytes keys, a Fortran-ordered array and labels
// as an int64 array.
func TestPicklePython3(t *testing.T) {
	ds := randomDataset(5, 300, 0)
	var raw bytes.Buffer
	if err := WriteBinary(&raw, &ds.Train); err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	if err := json.Unmarshal(testenv.NumPy(t, numpyPickles, raw.Bytes()), &out); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) != 12 {
		t.Fatalf("got %d pickles from python", len(keys))
	}
	for _, k := range keys {
		b, _ := base64.StdEncoding.DecodeString(out[k])
		got, err := parseBytes(b)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		checkBatch(t, k, got, &ds.Train)
		// The same through the unknown-size path (no declared total).
		got, err = parsePythonBatch(bytes.NewReader(b), -1, k, nil, 0)
		if err != nil {
			t.Fatalf("%s (unknown size): %v", k, err)
		}
		checkBatch(t, k, got, &ds.Train)
	}
}

const numpyLoadsOurs = `
import sys, pickle, json, hashlib
d = pickle.load(sys.stdin.buffer, encoding='latin1')
x = d['data']
print(json.dumps({'keys': list(d.keys()), 'shape': list(x.shape), 'dtype': str(x.dtype),
  'md5': hashlib.md5(x.tobytes()).hexdigest(), 'labels': d['labels'],
  'batch_label': d['batch_label'], 'filenames': d['filenames'][:2], 'nfiles': len(d['filenames']),
  'rows': x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(len(x), -1)[:2].tolist()}))
`

// TestPickleLoadsInNumpy: a file written by WritePython loads with
// pickle.load(f, encoding='latin1') and has the official structure.
func TestPickleLoadsInNumpy(t *testing.T) {
	ds := randomDataset(6, 1003, 0)
	b := writePythonBytes(t, &ds.Train)
	var out struct {
		Keys       []string
		Shape      []int
		Dtype      string
		MD5        string
		Labels     []int
		BatchLabel string `json:"batch_label"`
		Filenames  []string
		NFiles     int
		Rows       [][]int
	}
	if err := json.Unmarshal(testenv.NumPy(t, numpyLoadsOurs, b), &out); err != nil {
		t.Fatal(err)
	}
	chw := make([]byte, len(ds.Train.X))
	hwcToCHW(chw, ds.Train.X, ds.Train.N)
	sum := md5.Sum(chw)
	if strings.Join(out.Keys, ",") != "batch_label,labels,data,filenames" {
		t.Errorf("keys %v", out.Keys)
	}
	if fmt.Sprint(out.Shape) != "[1003 3072]" || out.Dtype != "uint8" || out.MD5 != hex.EncodeToString(sum[:]) {
		t.Errorf("numpy sees shape %v dtype %s md5 %s", out.Shape, out.Dtype, out.MD5)
	}
	if fmt.Sprint(out.Labels) != fmt.Sprint(Labels(&ds.Train)) {
		t.Errorf("labels differ")
	}
	if out.BatchLabel != "training batch 1 of 5" || out.NFiles != 1003 || out.Filenames[1] != "image_000001.png" {
		t.Errorf("batch_label %q filenames %v (%d)", out.BatchLabel, out.Filenames, out.NFiles)
	}
	// The reference's reshape(N,3,32,32).transpose(0,2,3,1) gives our HWC rows.
	for r := 0; r < 2; r++ {
		for j, v := range out.Rows[r] {
			if v != int(ds.Train.Image(r)[j]) {
				t.Fatalf("row %d value %d: numpy %d, ours %d", r, j, v, ds.Train.Image(r)[j])
			}
		}
	}
}

// dropLabel removes the first label (a BININT1) from a WritePython stream.
func dropLabel(b []byte) []byte {
	i := bytes.Index(b, []byte("U\x06labels"))
	i += bytes.IndexByte(b[i:], '(') + 1
	return append(append([]byte(nil), b[:i]...), b[i+2:]...)
}

func TestPickleErrors(t *testing.T) {
	ds := randomDataset(7, 2, 0)
	good := writePythonBytes(t, &ds.Train)
	cases := []struct {
		name  string
		data  []byte
		parts []string
	}{
		{"unknown opcode", []byte("\x80\x02G\x00\x00\x00\x00\x00\x00\x00\x00."), []string{"offset 2", "unsupported pickle opcode 0x47"}},
		{"forbidden global", []byte("\x80\x02cos\nsystem\nU\x07echo hi\x85R."), []string{"offset 2", "forbidden global os.system"}},
		{"forbidden stack global", []byte("\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x02hi\x85R."), []string{"offset 14", "forbidden global os.system"}},
		{"forbidden builtins", []byte("\x80\x02c__builtin__\neval\n."), []string{"forbidden global __builtin__.eval"}},
		{"reduce non-callable", []byte("\x80\x02K\x01)R."), []string{"REDUCE on a int"}},
		{"stack underflow", []byte("\x80\x02\x85."), []string{"offset 2", "stack underflow"}},
		{"underflow past mark", []byte("\x80\x02K\x01(\x86."), []string{"stack underflow"}},
		{"memo miss", []byte("\x80\x02h\x05."), []string{"memo miss: index 5"}},
		{"long memo miss", []byte("\x80\x02j\x00\x01\x00\x00."), []string{"memo miss: index 256"}},
		{"no mark", []byte("\x80\x02K\x01t."), []string{"no MARK"}},
		{"empty", nil, []string{"truncated pickle"}},
		{"no stop", []byte("\x80\x02K\x01"), []string{"truncated pickle"}},
		{"truncated", good[:len(good)/2], []string{"batch.pkl", "string of 6144 bytes is longer than"}},
		{"truncated end", good[:len(good)-3], []string{"batch.pkl", "truncated pickle"}},
		{"long string", append([]byte("\x80\x02T\xff\xff\xff\x7f"), make([]byte, 1024)...), []string{"offset 2", "string of 2147483647 bytes is longer than the 1024 bytes left"}},
		{"long bytes8", append([]byte("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x3f"), make([]byte, 10)...), []string{"longer than the 10 bytes left"}},
		{"negative binstring", []byte("\x80\x02T\xff\xff\xff\xff."), []string{"negative length"}},
		{"long frame", []byte("\x80\x04\x95\x00\x00\x00\x00\x01\x00\x00\x00K\x01."), []string{"FRAME of"}},
		{"protocol 6", []byte("\x80\x06N."), []string{"unsupported pickle protocol 6"}},
		{"bad utf8", []byte("\x80\x04\x8c\x02\xff\xfe."), []string{"not valid UTF-8"}},
		{"append to int", []byte("\x80\x02K\x01K\x02a."), []string{"APPEND(S) to a int"}},
		{"setitem on list", []byte("\x80\x02]K\x01K\x02s."), []string{"SETITEM(S) on a list"}},
		{"leftover stack", []byte("\x80\x02K\x01K\x02."), []string{"STOP leaves 1 values"}},
		{"long global line", append(append([]byte("\x80\x02c"), bytes.Repeat([]byte("a"), 300)...), '\n'), []string{"longer than 256"}},
		{"not a dict", []byte("\x80\x02K\x01."), []string{"batch.pkl", "not a dict"}},
		{"no data key", []byte("\x80\x02}."), []string{"no 'data' key"}},
		{"shape mismatch", bytes.Replace(good, []byte("(K\x01K\x02M\x00\x0c\x86"), []byte("(K\x01K\x03M\x00\x0c\x86"), 1),
			[]string{"array shape [3 3072] of u1 needs 9216 bytes but the data has 6144"}},
		{"bad dtype", bytes.Replace(good, []byte("U\x02u1"), []byte("U\x02f8"), 1), []string{`unsupported dtype "f8"`}},
		{"labels count", dropLabel(good), []string{"1 labels for 2 images"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseBytes(c.data)
			wantErr(t, err, c.parts...)
			if !strings.Contains(err.Error(), "batch.pkl") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// TestPickleHugeDeclarationNoAlloc: a pickle declaring a 2 GB string in a
// 1 KB input fails without allocating it, with a known or unknown size.
func TestPickleHugeDeclarationNoAlloc(t *testing.T) {
	data := append([]byte("\x80\x02T\xff\xff\xff\x7f"), make([]byte, 1024)...)
	for _, size := range []int64{int64(len(data)), -1} {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		_, err := parsePythonBatch(bytes.NewReader(data), size, "huge.pkl", nil, 0)
		runtime.ReadMemStats(&m1)
		if err == nil {
			t.Fatal("no error")
		}
		if d := m1.TotalAlloc - m0.TotalAlloc; d > 4<<20 {
			t.Errorf("size=%d: allocated %d bytes for a 1 KB input", size, d)
		}
	}
}

func TestPythonDirErrors(t *testing.T) {
	ds := randomDataset(8, 10, 5)
	t.Run("label", func(t *testing.T) {
		bad := *ds
		bad.Train.Y = append([]uint8(nil), ds.Train.Y...)
		dir := t.TempDir()
		if err := WritePythonDir(dir, ds); err != nil {
			t.Fatal(err)
		}
		// Rewrite batch 2 with a label 12.
		sub := bad.Train.Slice(2, 4)
		sub.Y[1] = 12
		if err := writeFileAtomic(filepath.Join(dir, "data_batch_2"), func(w io.Writer) error {
			return WritePython(w, &sub, "x", nil)
		}); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		wantErr(t, err, "data_batch_2", "record 1", "label 12 >= number of classes 10")
	})
	t.Run("missing meta", func(t *testing.T) {
		dir := t.TempDir()
		WritePythonDir(dir, ds)
		os.Remove(filepath.Join(dir, "batches.meta"))
		_, err := Load(dir)
		wantErr(t, err, "batches.meta")
	})
	t.Run("corrupt batch", func(t *testing.T) {
		dir := t.TempDir()
		WritePythonDir(dir, ds)
		f := filepath.Join(dir, "test_batch")
		b, _ := os.ReadFile(f)
		os.WriteFile(f, b[:100], 0o644)
		_, err := Load(dir)
		wantErr(t, err, "test_batch", "truncated pickle")
	})
	t.Run("mixed archive", func(t *testing.T) {
		dir := t.TempDir()
		WritePythonDir(filepath.Join(dir, "a"), ds)
		WriteBinaryDir(filepath.Join(dir, "b"), ds)
		_, err := Load(tarDir(t, dir, "", true))
		wantErr(t, err, "mixes the python and binary formats")
	})
}

// ---- hostile inputs (issue 15: findings 1, 2 and the pickle half of 16) ----

// amplificationPickle is finding 1: a 1 MiB str memoised with _codecs.encode
// and 'latin1', then encode re-applied reps times through memo GETs, each
// application a fresh 1 MiB bytes object from 12 bytes of input.
func amplificationPickle(reps int) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x02]q\x00c_codecs\nencode\nq\x01X")
	binary.Write(&b, binary.LittleEndian, uint32(1<<20))
	b.Write(bytes.Repeat([]byte("a"), 1<<20))
	b.WriteString("q\x02U\x06latin1q\x03(")
	for range reps {
		b.WriteString("h\x01h\x02h\x03\x86R")
	}
	b.WriteString("e.")
	return b.Bytes()
}

// opcodeBomb is finding 2: a protocol-2 header, body repeated to fill n
// bytes, and STOP.
func opcodeBomb(prefix, body string, n int) []byte {
	b := make([]byte, 0, n+len(prefix)+len(body)+3)
	b = append(b, "\x80\x02"...)
	b = append(b, prefix...)
	for len(b) < n {
		b = append(b, body...)
	}
	return append(b, '.')
}

// maxPickleAlloc is what parsing a size-byte pickle may allocate in total:
// twice the interpreter's bound for it (sizeFactor bytes per input byte
// plus sizeSlack), the factor two covering the Go heap's own slack.
func maxPickleAlloc(size int) uint64 { return 2 * (3*uint64(size) + 16<<20) }

// checkHostile parses data as a python batch and checks that it ends in a
// one-line error naming the file and containing parts, having allocated
// no more than maxPickleAlloc.
func checkHostile(t *testing.T, data []byte, parts ...string) {
	t.Helper()
	var err error
	grew := heapGrowth(func() {
		_, err = parsePythonBatch(bytes.NewReader(data), int64(len(data)), "data_batch_1", nil, 0)
	})
	if err == nil {
		t.Fatal("no error")
	}
	t.Logf("%d-byte pickle: %d bytes allocated; %v", len(data), grew, err)
	if lim := maxPickleAlloc(len(data)); grew > lim {
		t.Errorf("allocated %d bytes for a %d-byte pickle, over %d", grew, len(data), lim)
	}
	if strings.ContainsAny(err.Error(), "\n\r") {
		t.Errorf("error is not one line: %q", err)
	}
	wantErr(t, err, append([]string{"data_batch_1: pickle offset "}, parts...)...)
}

// TestPickleAmplification: _codecs.encode of a memoised 1 MiB str re-applied
// 1200 times (1.2 GB before the fix) stops at the interpreter's bound.
func TestPickleAmplification(t *testing.T) {
	checkHostile(t, amplificationPickle(1200), "REDUCE asks for 1048800 bytes", "limit for a 1058219-byte pickle")
}

// TestPickleOpcodeBombs: one-byte (or two-byte) opcodes repeated to the size
// of a real batch (30 MB) each create a value (2.6 GB for EMPTY_DICT before
// the fix); now each stops at the bound with an error naming the opcode.
// The four of the issue run at full size; the other idioms at 6 MB, since
// the bound is proportional to the size (TestPickleChargesCoverAllocations).
func TestPickleOpcodeBombs(t *testing.T) {
	const full, small = 30_000_000, 6_000_000
	for _, c := range []struct {
		name, prefix, body, op string
		n                      int
	}{
		{"EMPTY_DICT", "", "}", "EMPTY_DICT", full},
		{"NONE", "", "N", "NONE", full},
		{"EMPTY_TUPLE", "", ")", "EMPTY_TUPLE", full},
		{"EMPTY_DICT+MEMOIZE", "", "}\x94", "EMPTY_DICT", full},
		{"MARK", "", "(", "MARK", small},
		{"EMPTY_LIST+BINPUT", "", "]q\x00", "BINPUT", small},
		{"BINGET into a list", "]q\x00(", "h\x00", "BINGET", small},
		{"BININT2", "", "M\xff\xff", "BININT2", small},
		{"short BINBYTES", "", "C\x00", "SHORT_BINBYTES", small},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkHostile(t, opcodeBomb(c.prefix, c.body, c.n), c.op, "limit for a")
		})
	}
	// Memo entries under distinct indices: one NONE, then LONG_BINPUT 0, 1, 2, …
	t.Run("LONG_BINPUT", func(t *testing.T) {
		b := []byte("\x80\x02N")
		for i := uint32(0); len(b) < small; i++ {
			b = binary.LittleEndian.AppendUint32(append(b, 'r'), i)
		}
		checkHostile(t, append(b, '.'), "LONG_BINPUT", "limit for a")
	})
}

// TestPickleEscapesFileStrings: names and values from the file that reach an
// error message are escaped (and cut short), never printed raw.
func TestPickleEscapesFileStrings(t *testing.T) {
	esc := "\x1b[2J\x1b]0;PWNED\a"
	for _, c := range []struct {
		name string
		data string
		want string
	}{
		{"GLOBAL module", "\x80\x02c" + esc + "\nsystem\n.", `forbidden global \x1b[2J\x1b]0;PWNED\x07.system`},
		{"GLOBAL name", "\x80\x02cos\n" + esc + "\n.", `forbidden global os.\x1b[2J\x1b]0;PWNED\x07`},
		{"STACK_GLOBAL", "\x80\x04\x8c" + string(rune(len(esc))) + esc + "\x8c\x02os\x93.", `forbidden global \x1b[2J\x1b]0;PWNED\x07.os`},
		{"shape", "\x80\x02cnumpy.core.numeric\n_frombuffer\n(C\x00cnumpy\ndtype\nU\x02u1\x85R\x8c" + string(rune(len(esc))) + esc + "\x85U\x01CtR.",
			`array shape (str) has a bad dimension`},
		{"BUILD version", "\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R(U" + string(rune(len(esc))) + esc + "NNNNtb.",
			`array BUILD state version str (bytes), want 1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseBytes([]byte(c.data))
			wantErr(t, err, c.want)
			if strings.ContainsAny(err.Error(), "\x1b\a") {
				t.Errorf("raw escape in %q", err)
			}
		})
	}
	// A long name is cut, not copied into the message whole.
	_, err := parseBytes([]byte("\x80\x04\x8c\xff" + strings.Repeat("x", 255) + "\x8c\x02os\x93."))
	wantErr(t, err, "forbidden global xxx", "(255 bytes)")
	if len(err.Error()) > 300 {
		t.Errorf("error of %d bytes for a 255-byte name", len(err.Error()))
	}
}

// TestPickleChargesCoverAllocations runs each opcode (or idiom) repeated
// to fill the input, with no limit, and checks that what the Go heap spent
// stays within twice what the interpreter charged (plus its fixed
// buffers): the costs the budget counts are what the opcodes really cost.
func TestPickleChargesCoverAllocations(t *testing.T) {
	const n = 400_000
	reconstruct := "cnumpy.core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01cnumpy\ndtype\nq\x02U\x02u1q\x03"
	for _, c := range []struct{ name, prefix, body, suffix string }{
		{"EMPTY_DICT", "", "}", ""},
		{"EMPTY_LIST", "", "]", ""},
		{"EMPTY_TUPLE", "", ")", ""},
		{"NONE", "", "N", ""},
		{"MARK", "", "(", ""},
		{"MEMOIZE", "N", "\x94", ""},
		{"EMPTY_DICT MEMOIZE", "", "}\x94", ""},
		{"LONG_BINPUT", "N", "", ""}, // distinct indices, below
		{"BINGET APPENDS", "]q\x00(", "h\x00", "e"},
		{"BINGET APPEND", "]q\x00", "h\x00a", ""},
		{"BINGET SETITEMS", "}q\x00(", "h\x00", "u"},
		{"BINGET TUPLE", "Nq\x00(", "h\x00", "t"},
		{"SETITEM", "}", "NNs", ""},
		{"TUPLE3", "", "NNN\x87", ""},
		{"BININT", "", "J\x00\x01\x00\x00", ""},
		{"LONG1", "", "\x8a\x08\x01\x02\x03\x04\x05\x06\x07\x08", ""},
		{"SHORT_BINSTRING", "", "U\x01a", ""},
		{"SHORT_BINUNICODE", "", "\x8c\x01a", ""},
		{"BINBYTES", "", "B\x05\x00\x00\x00abcde", ""},
		{"GLOBAL", "", "cnumpy\ndtype\n", ""},
		{"encode", "c_codecs\nencode\nq\x00\x8c\x20" + strings.Repeat("\u00e9", 16) + "q\x01U\x06latin1q\x02", "h\x00h\x01h\x02\x86R", ""},
		{"dtype", reconstruct, "h\x02h\x03\x85R(K\x03U\x01|tb", ""},
		{"arrays", reconstruct, "h\x00h\x01K\x00\x85U\x01b\x87R(K\x01K\x02\x85h\x02h\x03\x85R\x89C\x02abtb", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := append([]byte("\x80\x02"), c.prefix...)
			for i := uint32(0); len(b) < n; i++ {
				if c.body == "" {
					b = binary.LittleEndian.AppendUint32(append(b, 'r'), i)
				} else {
					b = append(b, c.body...)
				}
			}
			b = append(append(b, c.suffix...), '.')
			for _, size := range []int64{int64(len(b)), -1} {
				var u *unpickler
				var err error
				grew := heapGrowth(func() {
					u = newUnpickler(bytes.NewReader(b), size, "x", nil, 1<<40)
					_, err = u.run()
				})
				if u.used < n/2 {
					t.Fatalf("charged only %d bytes for %d bytes of opcodes (%v)", u.used, n, err)
				}
				if lim := 2*uint64(u.used) + 256<<10; grew > lim {
					t.Errorf("size %d: allocated %d bytes, charged %d (ratio %.2f)", size, grew, u.used, float64(grew)/float64(u.used))
				}
			}
		})
	}
}

// py3Protocol2 rewrites a WritePython batch the way Python 3 pickles bytes
// at protocol 2: the pixels as a UTF-8 str passed to _codecs.encode with
// 'latin1'. Its 0x80-0xff bytes take two bytes each in the str.
func py3Protocol2(t *testing.T, b []byte) []byte {
	i := bytes.Index(b, []byte("b\x89T")) + 2
	n := int(binary.LittleEndian.Uint32(b[i+1:]))
	data := b[i+5 : i+5+n]
	var s []byte
	for _, c := range data {
		s = utf8.AppendRune(s, rune(c))
	}
	out := append([]byte(nil), b[:i]...)
	out = append(out, "c_codecs\nencode\nX"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(s)))
	out = append(out, s...)
	out = append(out, "U\x06latin1\x86R"...)
	return append(out, b[i+5+n:]...)
}

// TestPickleFullSizeBatch: a real-sized batch (10,000 images, 30 MB of
// pixels, 10,000 labels and filenames) loads well within the bound, in
// cPickle's layout and in Python 3's protocol-2 one with ASCII pixels (the
// pixels through _codecs.encode, 2 bytes materialised per input byte: the
// most a legitimate batch needs).
func TestPickleFullSizeBatch(t *testing.T) {
	const n = 10_000
	full := Split{X: make([]uint8, n*cifarDim), Y: make([]uint8, n), N: n, H: 32, W: 32, C: 3}
	ascii := full
	ascii.X = make([]uint8, n*cifarDim)
	for i := range full.X {
		full.X[i], ascii.X[i] = byte(i*7+i/3072), byte(i*7+i/3072)&0x7f
	}
	for i := range full.Y {
		full.Y[i] = uint8(i % 10)
	}
	for _, c := range []struct {
		name string
		s    *Split
		py3  bool
	}{{"cPickle", &full, false}, {"py3 ascii", &ascii, true}} {
		t.Run(c.name, func(t *testing.T) {
			b := writePythonBytes(t, c.s)
			if c.py3 {
				b = py3Protocol2(t, b)
			}
			got, err := parseBytes(b)
			if err != nil {
				t.Fatal(err)
			}
			checkBatch(t, c.name, got, c.s)
			u := newUnpickler(bytes.NewReader(b), int64(len(b)), "batch", nil, 1<<40)
			if _, err := u.run(); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d-byte pickle: charged %d of %d (%.0f%%)", len(b), u.used, u.limit, 100*float64(u.used)/float64(u.limit))
			if u.used > u.limit*3/4 {
				t.Errorf("a legitimate batch uses %d of its %d-byte bound", u.used, u.limit)
			}
		})
	}
}

// TestPickleLoadLimit: the caller's limit (the load budget) caps the size
// bound, and the error then names NNKERN_LOAD_LIMIT; without a size the
// budget alone applies, before the declared string is allocated.
func TestPickleLoadLimit(t *testing.T) {
	bomb := opcodeBomb("", "}", 1<<20)
	_, err := unpickleLimit(bytes.NewReader(bomb), int64(len(bomb)), "b.pkl", nil, 1<<20)
	wantErr(t, err, "b.pkl: pickle offset ", "EMPTY_DICT asks for 224 bytes more, over the 1048576-byte load limit (NNKERN_LOAD_LIMIT)")
	t.Setenv("NNKERN_LOAD_LIMIT", "2MiB")
	long := append([]byte("\x80\x02T\x00\x00\x40\x00"), make([]byte, 5<<20)...) // declares 4 MiB
	grew := heapGrowth(func() { _, err = unpickle(bytes.NewReader(long), -1, "u.pkl", nil) })
	wantErr(t, err, "u.pkl: pickle offset 2: BINSTRING asks for 8388832 bytes more, over the 2097152-byte load limit (NNKERN_LOAD_LIMIT)")
	if grew > 1<<20 {
		t.Errorf("allocated %d bytes before refusing", grew)
	}
	t.Setenv("NNKERN_LOAD_LIMIT", "lots")
	_, err = unpickle(bytes.NewReader(bomb), int64(len(bomb)), "b.pkl", nil)
	wantErr(t, err, "b.pkl: NNKERN_LOAD_LIMIT")
}

// TestPythonMetaNameAmplification: a batches.meta under the 1 MiB cap whose
// label_names are one memoised ~1 MB string fetched 256 times; copying each
// name took 256 MB before the names' lengths were checked (a 4 MB meta of
// the same shape took 4.2 GB, exit 0).
func TestPythonMetaNameAmplification(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("\x80\x02}q\x00U\x0blabel_namesq\x01]q\x02(T")
	const n = 1000000
	binary.Write(&b, binary.LittleEndian, uint32(n))
	b.Write(bytes.Repeat([]byte{'a'}, n))
	b.WriteString("q\x03")
	for range 255 {
		b.WriteString("h\x03")
	}
	b.WriteString("es.")
	data := b.Bytes()
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	_, err := parsePythonMeta(bytes.NewReader(data), int64(len(data)), "batches.meta")
	runtime.ReadMemStats(&m1)
	if err == nil || !strings.Contains(err.Error(), "label_names[0] is 1000000 bytes long") {
		t.Fatalf("err = %v, want the long class name refused", err)
	}
	if d := m1.TotalAlloc - m0.TotalAlloc; d > 8<<20 {
		t.Fatalf("refusing it allocated %d bytes", d)
	}
	// The text form has the same cap.
	txt := strings.Repeat("x", 300) + "\ncat\n"
	if _, err := parseMetaTxt(strings.NewReader(txt), int64(len(txt)), "batches.meta.txt"); err == nil || !strings.Contains(err.Error(), "class name 1 is 300 bytes long") {
		t.Fatalf("meta txt: err = %v, want the long class name refused", err)
	}
}
