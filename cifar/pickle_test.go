package cifar

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
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
	return parsePythonBatch(bytes.NewReader(b), int64(len(b)), "batch.pkl", nil)
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
		got, err = parsePythonBatch(bytes.NewReader(b), -1, k, nil)
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
		_, err := parsePythonBatch(bytes.NewReader(data), size, "huge.pkl", nil)
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
