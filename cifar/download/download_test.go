package download

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testTimeout is the idle timeout the stall tests use; hangLimit is how long
// a call may take before the test calls it hung (the old code hung forever).
const (
	testTimeout = 200 * time.Millisecond
	hangLimit   = 3 * time.Second
)

// dlServer serves payload as /cifar-10-python.tar.gz; the i-th request is
// answered in modes[i] (the last mode repeats).
type dlServer struct {
	payload []byte
	path    string // the only path served; others get 404
	stop    chan struct{}

	mu     sync.Mutex
	modes  []string
	ranges []string
	reqs   int
}

func (s *dlServer) setModes(m ...string) {
	s.mu.Lock()
	s.modes = m
	s.mu.Unlock()
}

func (s *dlServer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs
}

func (s *dlServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != s.path {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	mode := s.modes[min(s.reqs, len(s.modes)-1)]
	s.reqs++
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	s.mu.Unlock()
	wait := func(d time.Duration) bool {
		select {
		case <-r.Context().Done():
			return false
		case <-s.stop:
			return false
		case <-time.After(d):
			return true
		}
	}
	switch mode {
	case "ok":
		http.ServeContent(w, r, "x", time.Time{}, bytes.NewReader(s.payload))
	case "norange":
		w.Write(s.payload)
	case "404":
		http.NotFound(w, r)
	case "403":
		http.Error(w, "forbidden", http.StatusForbidden)
	case "500":
		http.Error(w, "boom", http.StatusInternalServerError)
	case "wrong": // a mirror with other bytes of the right size
		b := append([]byte(nil), s.payload...)
		b[7] ^= 1
		w.Write(b)
	case "short": // the connection drops half-way
		w.Header().Set("Content-Length", "100003")
		w.Write(s.payload[:len(s.payload)/2])
	case "hang": // half the bytes, then nothing until the client goes
		w.Write(s.payload[:len(s.payload)/2])
		w.(http.Flusher).Flush()
		wait(time.Hour)
	case "stall": // headers, then nothing
		w.Header().Set("Content-Length", "100003")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		wait(time.Hour)
	case "trickle-slow", "trickle-fast": // one byte per interval
		every := 3 * testTimeout / 2 // slower than the idle timeout
		if mode == "trickle-fast" {
			every = testTimeout / 8 // never idle that long, but far below MinRate
		}
		w.Header().Set("Content-Length", "100003")
		w.WriteHeader(http.StatusOK)
		for i := 0; i < len(s.payload); i++ {
			w.Write(s.payload[i : i+1])
			w.(http.Flusher).Flush()
			if !wait(every) {
				return
			}
		}
	}
}

// newDLServer starts a server for a 100,003-byte payload and makes the
// "python" archive that payload (its size and md5, or md5sum if given).
func newDLServer(t *testing.T, md5sum string) (*dlServer, string) {
	rng := rand.New(rand.NewPCG(71, 1))
	s := &dlServer{payload: make([]byte, 100_003), modes: []string{"ok"},
		path: "/cifar-10-python.tar.gz", stop: make(chan struct{})}
	for i := range s.payload {
		s.payload[i] = uint8(rng.IntN(256))
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(s.stop) }) // runs first: stalled handlers return
	oldBase, oldArc := officialBase, archives["python"]
	t.Cleanup(func() { officialBase, archives["python"] = oldBase, oldArc })
	sum := md5.Sum(s.payload)
	if md5sum == "" {
		md5sum = hex.EncodeToString(sum[:])
	}
	officialBase = srv.URL + "/"
	archives["python"] = archive{File: "cifar-10-python.tar.gz", Size: int64(len(s.payload)), MD5: md5sum}
	return s, t.TempDir()
}

// fast are options for tests: the short idle timeout and backoff.
func fast(retries int) Options {
	return Options{Timeout: testTimeout, Retries: retries, Backoff: 10 * time.Millisecond}
}

// get runs CIFAR10 for the python archive and fails the test if it has
// not returned within hangLimit.
func get(t *testing.T, ctx context.Context, dir string, opt Options) (string, error) {
	t.Helper()
	type result struct {
		p   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		p, err := CIFAR10(ctx, dir, "python", opt)
		done <- result{p, err}
	}()
	select {
	case r := <-done:
		return r.p, r.err
	case <-time.After(hangLimit):
		t.Fatalf("download still running after %v: it hangs", hangLimit)
		return "", nil
	}
}

func wantErr(t testing.TB, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
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

// partSize is the size of the .part file, -1 if there is none.
func partSize(t *testing.T, dir string) int64 {
	t.Helper()
	st, err := os.Stat(filepath.Join(dir, "cifar-10-python.tar.gz.part"))
	if err != nil {
		return -1
	}
	return st.Size()
}

func noPart(t *testing.T, dir string) {
	t.Helper()
	if n := partSize(t, dir); n >= 0 {
		t.Fatalf("a %d-byte .part was left after a failure before the first byte", n)
	}
}

func TestDownloadFull(t *testing.T) {
	s, dir := newDLServer(t, "")
	var last, total int64
	monotone := true
	opt := fast(0)
	opt.Progress = func(done, tot int64) {
		monotone = monotone && done >= last
		last, total = done, tot
	}
	p, err := get(t, context.Background(), dir, opt)
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
	if _, err := CIFAR10(context.Background(), dir, "cifar10", Options{}); err != nil || s.requests() != 1 {
		t.Fatalf("second download: %v, %d requests", err, s.requests())
	}
}

func TestDownloadResume(t *testing.T) {
	for _, mode := range []string{"ok", "norange"} {
		t.Run(mode, func(t *testing.T) {
			s, dir := newDLServer(t, "")
			s.setModes(mode)
			os.WriteFile(filepath.Join(dir, "cifar-10-python.tar.gz.part"), s.payload[:40000], 0o644)
			var first int64 = -1
			opt := fast(0)
			opt.Progress = func(done, _ int64) {
				if first < 0 {
					first = done
				}
			}
			p, err := get(t, context.Background(), dir, opt)
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
	s, dir := newDLServer(t, "00000000000000000000000000000000")
	_, err := get(t, context.Background(), dir, fast(3))
	wantErr(t, err, "cifar-10-python.tar.gz", "md5 check failed", "want 00000000000000000000000000000000")
	noFinal(t, dir)
	noPart(t, dir)
	if n := s.requests(); n != 1 {
		t.Fatalf("an md5 mismatch was retried: %d requests", n)
	}
}

func TestDownloadCorruptPartial(t *testing.T) {
	s, dir := newDLServer(t, "")
	bad := append([]byte(nil), s.payload[:5000]...)
	bad[10] ^= 1
	os.WriteFile(filepath.Join(dir, "cifar-10-python.tar.gz.part"), bad, 0o644)
	_, err := get(t, context.Background(), dir, fast(0))
	wantErr(t, err, "md5 check failed")
	noFinal(t, dir)
	p, err := get(t, context.Background(), dir, fast(0)) // the retry starts over
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, s, p)
}

// A 404 or 403 is final: one request, an error naming the status, and no
// .part (the old code left a 0-byte one).
func TestDownloadNotFound(t *testing.T) {
	for _, mode := range []string{"404", "403"} {
		t.Run(mode, func(t *testing.T) {
			s, dir := newDLServer(t, "")
			s.setModes(mode)
			_, err := get(t, context.Background(), dir, fast(3))
			wantErr(t, err, "cifar-10-python.tar.gz", "server error: "+mode)
			noFinal(t, dir)
			noPart(t, dir)
			if n := s.requests(); n != 1 {
				t.Fatalf("%s was retried: %d requests", mode, n)
			}
		})
	}
}

// A 500 is transient: retried Retries times, then an error that says how
// many attempts were made; no .part.
func TestDownloadServerError(t *testing.T) {
	s, dir := newDLServer(t, "")
	s.setModes("500")
	opt := fast(2)
	var waits []time.Duration
	opt.Retrying = func(attempt int, err error, wait time.Duration) {
		if attempt != len(waits)+1 || !strings.Contains(err.Error(), "500") {
			t.Errorf("Retrying(%d, %v)", attempt, err)
		}
		waits = append(waits, wait)
	}
	_, err := get(t, context.Background(), dir, opt)
	wantErr(t, err, "cifar-10-python.tar.gz", "server error: 500", "3 attempts")
	if len(waits) != 2 || waits[0] != opt.Backoff || waits[1] != 2*opt.Backoff {
		t.Fatalf("backoff waits %v, want %v doubling", waits, opt.Backoff)
	}
	noFinal(t, dir)
	noPart(t, dir)
	if n := s.requests(); n != 3 {
		t.Fatalf("%d requests, want 3 (1 + 2 retries)", n)
	}
	// Two 500s, then the file: one call succeeds.
	s, dir = newDLServer(t, "")
	s.setModes("500", "500", "ok")
	p, err := get(t, context.Background(), dir, fast(2))
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, s, p)
}

// A connection that drops half-way is retried, resuming with Range.
func TestDownloadShortRetried(t *testing.T) {
	s, dir := newDLServer(t, "")
	s.setModes("short", "ok")
	p, err := get(t, context.Background(), dir, fast(1))
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, s, p)
	if len(s.ranges) != 2 || s.ranges[1] != "bytes=50001-" {
		t.Fatalf("Range headers %q", s.ranges)
	}
	// Without retries the bytes are kept and the next call resumes.
	s, dir = newDLServer(t, "")
	s.setModes("short")
	opt := fast(0)
	opt.Retries = -1
	_, err = get(t, context.Background(), dir, opt)
	wantErr(t, err, "got 50001 of 100003 bytes")
	noFinal(t, dir)
	if n := partSize(t, dir); n != 50001 {
		t.Fatalf(".part holds %d bytes, want 50001", n)
	}
	s.setModes("ok")
	if p, err = get(t, context.Background(), dir, fast(0)); err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, s, p)
}

// A server that sends its headers and then nothing is given up on after
// the idle timeout (the old code waited forever).
func TestDownloadStallAfterHeaders(t *testing.T) {
	s, dir := newDLServer(t, "")
	s.setModes("stall")
	t0 := time.Now()
	_, err := get(t, context.Background(), dir, fast(1))
	wantErr(t, err, "no byte received for 200ms", "2 attempts")
	if n := s.requests(); n != 2 {
		t.Fatalf("%d requests, want 2 (a stall is retried)", n)
	}
	if el := time.Since(t0); el > 2*time.Second {
		t.Fatalf("took %v", el)
	}
	noFinal(t, dir)
	noPart(t, dir)
}

// A server that accepts the connection and never answers.
func TestDownloadNeverAnswers(t *testing.T) {
	_, dir := newDLServer(t, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	accepts := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			accepts++
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	opt := fast(1)
	opt.URL = "http://" + ln.Addr().String() + "/cifar-10-python.tar.gz"
	_, err = get(t, context.Background(), dir, opt)
	wantErr(t, err, "no response for 200ms", "2 attempts")
	noFinal(t, dir)
	noPart(t, dir)
	mu.Lock()
	defer mu.Unlock()
	if accepts != 2 {
		t.Fatalf("%d connections, want 2", accepts)
	}
}

// A byte at a time: slower than the idle timeout, or faster than it but
// far below MinRate. The bytes that came are kept for resume.
func TestDownloadTrickle(t *testing.T) {
	for _, tc := range []struct{ mode, want string }{
		{"trickle-slow", "no byte received for 200ms"},
		{"trickle-fast", "too slow: "},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			s, dir := newDLServer(t, "")
			s.setModes(tc.mode)
			_, err := get(t, context.Background(), dir, fast(-1))
			wantErr(t, err, tc.want)
			noFinal(t, dir)
			if n := partSize(t, dir); n < 1 {
				t.Fatalf(".part holds %d bytes; the trickled ones should be kept", n)
			}
		})
	}
}

// A mirror: the archive at another URL, still checked against the
// official size and md5, saved under the official name.
func TestDownloadMirror(t *testing.T) {
	s, dir := newDLServer(t, "")
	s.path = "/pub/mirror/cifar10.tgz"
	opt := fast(0)
	opt.URL = strings.TrimSuffix(officialBase, "/") + s.path
	officialBase = "http://127.0.0.1:1/" // the official site is not asked
	p, err := get(t, context.Background(), dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != "cifar-10-python.tar.gz" {
		t.Fatalf("saved as %s", p)
	}
	checkDownloaded(t, s, p)

	// A mirror with other bytes is refused, not retried, and nothing kept.
	dir = t.TempDir()
	s.setModes("wrong")
	n0 := s.requests()
	_, err = get(t, context.Background(), dir, Options{URL: opt.URL, Timeout: testTimeout, Retries: 3})
	wantErr(t, err, "md5 check failed", opt.URL)
	noFinal(t, dir)
	noPart(t, dir)
	if n := s.requests() - n0; n != 1 {
		t.Fatalf("%d requests for a wrong md5, want 1", n)
	}

	for _, bad := range []string{"ftp://example.org/x.tgz", "cifar.tgz", "http://", "http://host/\x1b[2J"} {
		_, err := CIFAR10(context.Background(), t.TempDir(), "python", Options{URL: bad})
		wantErr(t, err, "URL")
		if strings.ContainsRune(err.Error(), 0x1b) {
			t.Fatalf("error %q carries an ESC byte", err)
		}
	}
}

// Ctrl-C mid-body keeps the bytes for resume; before the first byte it
// leaves nothing; during a retry's backoff it returns at once.
func TestDownloadCancel(t *testing.T) {
	s, dir := newDLServer(t, "")
	s.setModes("hang")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := fast(0)
	opt.Timeout = time.Minute
	opt.Progress = func(done, total int64) {
		if done >= total/2 {
			cancel()
		}
	}
	_, err := get(t, ctx, dir, opt)
	wantErr(t, err, "context canceled")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v is not context.Canceled", err)
	}
	noFinal(t, dir)
	if n := partSize(t, dir); n <= 0 {
		t.Fatalf("partial download not kept for resume: %d bytes", n)
	}
	s.setModes("ok")
	p, err := get(t, context.Background(), dir, fast(0))
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, s, p)
	if !strings.HasPrefix(s.ranges[1], "bytes=") {
		t.Fatalf("no resume after cancel: %q", s.ranges[1])
	}

	// Cancelled while the server stalls before the first byte: once the
	// request has reached it (a fixed delay could cancel before the
	// request is sent on a loaded machine, and then see no request).
	s, dir = newDLServer(t, "")
	s.setModes("stall")
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		for s.requests() == 0 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	opt = fast(5)
	opt.Timeout = time.Minute
	_, err = get(t, ctx, dir, opt)
	wantErr(t, err, "context canceled")
	noPart(t, dir)
	if n := s.requests(); n != 1 {
		t.Fatalf("a cancelled download was retried: %d requests", n)
	}

	// Cancelled as the backoff before a retry begins: get's hangLimit is
	// far below the minute of backoff.
	s, dir = newDLServer(t, "")
	s.setModes("500")
	ctx, cancel = context.WithCancel(context.Background())
	opt = fast(5)
	opt.Backoff = time.Minute
	opt.Retrying = func(int, error, time.Duration) { cancel() }
	_, err = get(t, ctx, dir, opt)
	wantErr(t, err, "context canceled")
	if n := s.requests(); n != 1 {
		t.Fatalf("%d requests, want 1 (cancelled in the backoff after it)", n)
	}
}

func TestDownloadVariants(t *testing.T) {
	_, err := CIFAR10(context.Background(), t.TempDir(), "cifar100", Options{})
	wantErr(t, err, `unknown variant "cifar100"`)
	// The published sizes and checksums of the official archives.
	if a := archives["python"]; a != (archive{"cifar-10-python.tar.gz", 170498071, "c58f30108f718f92721af3b95e74349a"}) {
		t.Errorf("python archive %+v", a)
	}
	if a := archives["binary"]; a != (archive{"cifar-10-binary.tar.gz", 170052171, "c32a1d4ab5d03f1284b67883e8d87530"}) {
		t.Errorf("binary archive %+v", a)
	}
	if officialBase != "https://www.cs.toronto.edu/~kriz/" {
		t.Errorf("base URL %s", officialBase)
	}
}
