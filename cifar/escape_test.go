package cifar

import (
	"bytes"
	"image"
	"image/png"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// failFS fails to open the names in fail as a permission error would.
type failFS struct {
	fstest.MapFS
	fail map[string]bool
}

func (f failFS) Open(name string) (fs.File, error) {
	if f.fail[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f.MapFS.Open(name)
}

func (f failFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if f.fail[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f.MapFS.ReadDir(name)
}

func (f failFS) Stat(name string) (fs.FileInfo, error) {
	if f.fail[name] {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrPermission}
	}
	return f.MapFS.Stat(name)
}

// A name from a directory listing (an image folder's class directory or
// image file) that cannot be read appears in the error escaped, and the
// cause is kept for errors.Is.
func TestListedNamesEscapedInErrors(t *testing.T) {
	const hostile = "\x1b[2J\x1b]0;PWNED\a"
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	img := b.Bytes()
	for what, fail := range map[string]string{
		"class directory": "d/train/" + hostile,
		"image file":      "d/train/" + hostile + "/a.png",
	} {
		fsys := failFS{MapFS: fstest.MapFS{
			"d/train/" + hostile + "/a.png": {Data: img},
			"d/train/cat/b.png":             {Data: img},
			"d/test/cat/c.png":              {Data: img},
		}, fail: map[string]bool{fail: true}}
		_, err := LoadFS(fsys, "d", LoadOptions{})
		if err == nil {
			t.Fatalf("%s: loaded", what)
		}
		if strings.ContainsAny(err.Error(), "\x1b\a") || !strings.Contains(err.Error(), "PWNED") {
			t.Errorf("%s: %q does not name the file escaped", what, err)
		}
	}
}
