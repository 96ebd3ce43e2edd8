package cifar

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// dlServer serves payload as /cifar-10-python.tar.gz in the given mode and
// points Download at it with an injected size and md5.
type dlServer struct {
	payload []byte
	mode    string // "ok", "norange", "500", "short", "hang"
	mu      sync.Mutex
	ranges  []string
	reqs    int
}

func (s *dlServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs++
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	mode := s.mode
	s.mu.Unlock()
	switch mode {
	case "ok":
		http.ServeContent(w, r, "x", time.Time{}, bytes.NewReader(s.payload))
	case "norange":
		w.Write(s.payload)
	case "500":
		http.Error(w, "boom", http.StatusInternalServerError)
	case "short":
		w.Write(s.payload[:len(s.payload)/2])
	case "hang":
		w.Write(s.payload[:len(s.payload)/2])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
}

func newDLServer(t *testing.T, md5sum string) (*dlServer, string) {
	rng := rand.New(rand.NewPCG(71, 1))
	s := &dlServer{payload: make([]byte, 100_003), mode: "ok"}
	for i := range s.payload {
		s.payload[i] = uint8(rng.IntN(256))
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	oldBase, oldArc := downloadBase, archives["python"]
	t.Cleanup(func() { downloadBase, archives["python"] = oldBase, oldArc })
	sum := md5.Sum(s.payload)
	if md5sum == "" {
		md5sum = hex.EncodeToString(sum[:])
	}
	downloadBase = srv.URL + "/"
	archives["python"] = archive{File: "cifar-10-python.tar.gz", Size: int64(len(s.payload)), MD5: md5sum}
	return s, t.TempDir()
}

func checkDownloaded(t *testing.T, s *dlServer, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(b, s.payload) {
		t.Fatalf("downloaded file differs (%v)", err)
	}
	if _, err := os.Stat(p + ".part"); err == nil {
		t.Fatalf(".part left behind")
	}
}

func noFinal(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "cifar-10-python.tar.gz")); err == nil {
		t.Fatal("a final file exists after a failed download")
	}
}

func TestDownloadFull(t *testing.T) {
	s, dir := newDLServer(t, "")
	var last, total int64
	monotone := true
	p, err := Download(context.Background(), dir, "cifar10", func(done, tot int64) {
		monotone = monotone && done >= last
		last, total = done, tot
	})
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(dir, "cifar-10-python.tar.gz") {
		t.Fatalf("path %s", p)
	}
	checkDownloaded(t, s, p)
	if !monotone || last != int64(len(s.payload)) || total != last {
		t.Fatalf("progress ended at %d/%d (monotone %v)", last, total, monotone)
	}
	// Present and valid: no second request.
	if _, err := Download(context.Background(), dir, "python", nil); err != nil || s.reqs != 1 {
		t.Fatalf("second Download: %v, %d requests", err, s.reqs)
	}
}

func TestDownloadResume(t *testing.T) {
	for _, mode := range []string{"ok", "norange"} {
		t.Run(mode, func(t *testing.T) {
			s, dir := newDLServer(t, "")
			s.mode = mode
			os.WriteFile(filepath.Join(dir, "cifar-10-python.tar.gz.part"), s.payload[:40000], 0o644)
			var first int64 = -1
			p, err := Download(context.Background(), dir, "python", func(done, _ int64) {
				if first < 0 {
					first = done
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			checkDownloaded(t, s, p)
			if s.ranges[0] != "bytes=40000-" {
				t.Fatalf("Range header %q", s.ranges[0])
			}
			if mode == "ok" && first != 40000 {
				t.Fatalf("resumed download started at %d", first)
			}
		})
	}
}

func TestDownloadWrongChecksum(t *testing.T) {
	_, dir := newDLServer(t, "00000000000000000000000000000000")
	_, err := Download(context.Background(), dir, "python", nil)
	wantErr(t, err, "cifar-10-python.tar.gz", "md5 check failed", "want 00000000000000000000000000000000")
	noFinal(t, dir)
	if _, err := os.Stat(filepath.Join(dir, "cifar-10-python.tar.gz.part")); err == nil {
		t.Fatal("corrupt .part kept")
	}
}

func TestDownloadCorruptPartial(t *testing.T) {
	s, dir := newDLServer(t, "")
	bad := append([]byte(nil), s.payload[:5000]...)
	bad[10] ^= 1
	os.WriteFile(filepath.Join(dir, "cifar-10-python.tar.gz.part"), bad, 0o644)
	_, err := Download(context.Background(), dir, "python", nil)
	wantErr(t, err, "md5 check failed")
	noFinal(t, dir)
	p, err := Download(context.Background(), dir, "python", nil) // the retry starts over
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, s, p)
}

func TestDownloadServerError(t *testing.T) {
	s, dir := newDLServer(t, "")
	s.mode = "500"
	_, err := Download(context.Background(), dir, "python", nil)
	wantErr(t, err, "cifar-10-python.tar.gz", "server error: 500")
	noFinal(t, dir)
}

func TestDownloadShort(t *testing.T) {
	s, dir := newDLServer(t, "")
	s.mode = "short"
	_, err := Download(context.Background(), dir, "python", nil)
	wantErr(t, err, "size check failed", "got 50001 of 100003 bytes")
	noFinal(t, dir)
	s.mode = "ok" // the next call resumes from the kept bytes
	p, err := Download(context.Background(), dir, "python", nil)
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, s, p)
	if s.ranges[1] != "bytes=50001-" {
		t.Fatalf("Range %q", s.ranges[1])
	}
}

func TestDownloadCancel(t *testing.T) {
	s, dir := newDLServer(t, "")
	s.mode = "hang"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := Download(ctx, dir, "python", func(done, total int64) {
		if done >= total/2 {
			cancel()
		}
	})
	wantErr(t, err, "context canceled")
	noFinal(t, dir)
	if st, err := os.Stat(filepath.Join(dir, "cifar-10-python.tar.gz.part")); err != nil || st.Size() == 0 {
		t.Fatalf("partial download not kept for resume: %v", err)
	}
	s.mode = "ok"
	p, err := Download(context.Background(), dir, "python", nil)
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, s, p)
	if !strings.HasPrefix(s.ranges[1], "bytes=") {
		t.Fatalf("no resume after cancel: %q", s.ranges[1])
	}
}

func TestDownloadVariants(t *testing.T) {
	_, err := Download(context.Background(), t.TempDir(), "cifar100", nil)
	wantErr(t, err, `unknown variant "cifar100"`)
	// The published sizes and checksums of the official archives.
	if a := archives["python"]; a != (archive{"cifar-10-python.tar.gz", 170498071, "c58f30108f718f92721af3b95e74349a"}) {
		t.Errorf("python archive %+v", a)
	}
	if a := archives["binary"]; a != (archive{"cifar-10-binary.tar.gz", 170052171, "c32a1d4ab5d03f1284b67883e8d87530"}) {
		t.Errorf("binary archive %+v", a)
	}
	if downloadBase != "https://www.cs.toronto.edu/~kriz/" {
		t.Errorf("base URL %s", downloadBase)
	}
}
