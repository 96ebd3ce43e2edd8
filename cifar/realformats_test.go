package cifar

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealOfficialFormats writes the shared CIFAR-10 (decoded from its JPEG
// folder) in the official python and binary layouts, loads both back
// (pixels and labels must be identical), and loads each once more in a
// fresh process that checks the bound on the peak RSS after loading
// CIFAR-10 (TestLoadPeakRSS, < 250 MB). Nothing is written outside the
// test's temporary directory.
func TestRealOfficialFormats(t *testing.T) {
	ds := realCIFAR(t)
	root := t.TempDir()
	dirs := map[string]func(string, *Dataset) error{
		"cifar-10-batches-py":  WritePythonDir,
		"cifar-10-batches-bin": WriteBinaryDir,
	}
	for sub, write := range dirs {
		t.Run(sub, func(t *testing.T) {
			dir := filepath.Join(root, sub)
			if err := write(dir, ds); err != nil {
				t.Fatal(err)
			}
			got, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			equalDataset(t, got, ds)
			got = nil

			cmd := exec.Command(os.Args[0], "-test.run=^TestLoadPeakRSS$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "NNKERN_CIFAR_DIR="+root, "NNKERN_CIFAR_SUB="+sub)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "--- PASS: TestLoadPeakRSS") {
				t.Fatalf("loading %s in a fresh process: %v\n%s", sub, err, out)
			}
			for _, l := range strings.Split(string(out), "\n") {
				if strings.Contains(l, "peak RSS") {
					t.Log(strings.TrimSpace(l))
				}
			}
		})
	}
}
