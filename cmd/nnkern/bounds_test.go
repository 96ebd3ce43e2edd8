package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/internal/allocstest"
	"github.com/nnkern/nnkern/internal/testenv"
)

func checkFileError(t *testing.T, what string, err error, path string, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: accepted", what)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) || strings.Contains(msg, "\n") {
		t.Errorf("%s: %q is not one line naming %s", what, msg, path)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: %q does not say %q", what, msg, w)
		}
	}
}

// config.json and sweep-configs.json are read only if they are regular
// files of the size such a file can have: a FIFO planted in a run
// directory no longer hangs --resume, and a huge file is refused before
// it is read.
func TestRunConfigFilesBounded(t *testing.T) {
	dir := t.TempDir()
	readers := map[string]func(p string) error{
		"config.json":        func(p string) error { _, err := readRunConfig(p); return err },
		"sweep-configs.json": func(p string) error { _, err := readSweepConfigs(p, 2); return err },
	}
	for name, read := range readers {
		p := filepath.Join(dir, "fifo-"+name)
		testenv.Mkfifo(t, p)
		checkFileError(t, name+" FIFO", testenv.FIFOReadReturns(t, p, func() error { return read(p) }), p, "named pipe")
	}
	// Valid JSON followed by NULs to 64 MiB (a sparse file), which the
	// reader used to read whole before its JSON error.
	for name, body := range map[string]string{
		"config.json":        `{"settings":{"model":"softmax"}}`,
		"sweep-configs.json": `[{"model":"softmax"},{"model":"softmax"}]`,
	} {
		p := filepath.Join(dir, "big-"+name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(body)
		if err := f.Truncate(64 << 20); err != nil {
			t.Fatal(err)
		}
		f.Close()
		checkFileError(t, name+" of 64 MiB", readers[name](p), p, "67108864 bytes")
	}
}

// A sweep-configs.json of many empty objects is refused after the
// configurations the flags give, not decoded into hundreds of thousands
// of Settings first.
func TestSweepConfigsCountBounded(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sweep-configs.json")
	if err := os.WriteFile(p, []byte("["+strings.Repeat("{},", 20000)+"{}]"), 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	const bound = 1 << 20
	if n := allocstest.Bytes(bound, func() { _, err = readSweepConfigs(p, 2) }); n > bound {
		t.Errorf("reading 20001 configurations where 2 were due allocated %d bytes (bound %d)", n, bound)
	}
	checkFileError(t, "20001 configurations", err, p, "more than the 2")
}

// The best configuration's model.npz is copied as a stream of a regular
// file, not read whole whatever it is: a FIFO in its place is refused.
func TestSweepBestModelCopyBounded(t *testing.T) {
	base := t.TempDir()
	if err := os.MkdirAll(filepath.Join(base, "r0"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(base, "r0", modelFile)
	testenv.Mkfifo(t, p)
	e := &env{stdout: io.Discard, stderr: io.Discard, getenv: os.Getenv}
	recs := []sweepRec{{Index: 0, Dir: "r0", ValAcc: 0.5}}
	err := testenv.FIFOReadReturns(t, p, func() error { return summarize(e, base, recs, base) })
	checkFileError(t, "model.npz FIFO", err, p, "named pipe")
}

// FuzzRunConfig feeds config.json contents to the decoder --resume and
// eval use. Its allocations stay within a multiple of the input: an empty
// segment, three bytes of JSON, is a Segment of a few hundred bytes, and
// the slice holding them grows as it fills.
func FuzzRunConfig(f *testing.F) {
	f.Add([]byte(`{"settings":{"model":"softmax","dtype":"float64","learning_rate":1e-7,"reg":25000,"num_iters":10,"batch_size":200},"data":{"path":"d","classes":["a","b"],"image_shape":[32,32,3]},"env":{"goos":"linux"},"segments":[{"from_iteration":0,"isa":"avx2"}],"note":"x"}`))
	f.Add([]byte(`{"settings":{"model":"twolayer","isa":"generic"}}`))
	f.Add([]byte(`{"settings":{"model":"m"},"segments":[{},{},{},{}],"data":{"classes":["","",""]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxConfigJSON {
			return
		}
		var err error
		allocstest.Bound(t, "parseRunConfig", 256*uint64(len(data))+64<<10, func() { _, err = parseRunConfig("config.json", data) })
		if err != nil && strings.ContainsAny(err.Error(), "\n\x1b\a") {
			t.Fatalf("error is not one escaped line: %q", err)
		}
	})
}

// FuzzSweepConfigs feeds sweep-configs.json contents for a sweep of three
// configurations. However many the file lists, the decoder makes at most
// three (and the Settings it is decoding), so its allocations stay within
// a small multiple of the input.
func FuzzSweepConfigs(f *testing.F) {
	f.Add([]byte(`[{"model":"softmax","learning_rate":1e-7},{"model":"softmax"},{"model":"softmax","reg":5}]`))
	f.Add([]byte(`[{},{},{},{},{},{},{}]`))
	f.Add([]byte(`[{"model":"\u001b[2J"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s []Settings
		var err error
		allocstest.Bound(t, "parseSweepConfigs", 16*uint64(len(data))+64<<10, func() { s, err = parseSweepConfigs("sweep-configs.json", data, 3) })
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\x1b\a") {
				t.Fatalf("error is not one escaped line: %q", err)
			}
			return
		}
		if len(s) != 3 {
			t.Fatalf("accepted %d configurations for 3", len(s))
		}
	})
}

// sweep.jsonl records name their run directory inside the sweep's: one
// that points elsewhere is refused (summarize would copy that model into
// best/), and so is a record without settings, so that a file of "{}"
// lines is not decoded into one record of a few hundred bytes per three
// bytes of file.
func TestReadSweepRecordsChecked(t *testing.T) {
	dir := t.TempDir()
	good := `{"index":0,"settings":{"model":"softmax"},"dir":"run-0000","val_acc":0.5}` + "\n"
	for name, c := range map[string]struct{ data, want string }{
		"outside":  {good + `{"index":1,"settings":{"model":"softmax"},"dir":"../../elsewhere"}` + "\n", "line 2"},
		"absolute": {`{"index":1,"settings":{"model":"softmax"},"dir":"/etc"}` + "\n", "line 1"},
		"empty":    {good + strings.Repeat("{}\n", 100000), "line 2"},
	} {
		p := filepath.Join(dir, name+".jsonl")
		if err := os.WriteFile(p, []byte(c.data), 0o644); err != nil {
			t.Fatal(err)
		}
		var err error
		bound := uint64(8*len(c.data) + 1<<20)
		if n := allocstest.Bytes(bound, func() { _, _, err = readSweep(p) }); n > bound {
			t.Errorf("%s: readSweep allocated %d bytes (bound %d)", name, n, bound)
		}
		checkFileError(t, name, err, p, c.want)
	}
	p := filepath.Join(dir, "good.jsonl")
	os.WriteFile(p, []byte(good), 0o644)
	if recs, _, err := readSweep(p); err != nil || len(recs) != 1 {
		t.Fatalf("a good record: %v, %d records", err, len(recs))
	}
}

// FuzzSweep feeds sweep.jsonl contents to readSweep (through a file, as
// --resume, sweep merge and the summary read it). Its allocations stay
// within a multiple of the input: a record it keeps takes at least 30
// bytes of file and a few hundred in memory; every record it returns names
// a run directory inside the sweep's.
func FuzzSweep(f *testing.F) {
	f.Add([]byte(`{"index":0,"settings":{"model":"softmax","learning_rate":1e-7},"dir":"run-0000","val_acc":0.3}` + "\n" + `{"index":1,"settings":{"model":"softmax"},"dir":"run-0001","error":"x"}` + "\n"))
	f.Add([]byte("{}\n{}\n{\"index\":"))
	f.Add([]byte(`{"index":0,"settings":{"model":"m"},"dir":"../x"}` + "\n"))
	p := filepath.Join(f.TempDir(), "sweep.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var recs []sweepRec
		var err error
		allocstest.Bound(t, "readSweep", 32*uint64(len(data))+64<<10, func() { recs, _, err = readSweep(p) })
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\x1b\a") {
				t.Fatalf("error is not one escaped line: %q", err)
			}
			return
		}
		for _, r := range recs {
			if !filepath.IsLocal(r.Dir) || r.Settings.Model == "" {
				t.Fatalf("accepted record %+v", r)
			}
		}
	})
}
