package main

// Tests of 'data fetch' against local servers that stall, never answer,
// trickle or fail, and of 'data info' on class names with terminal escapes.

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nnkern/nnkern/cifar"
)

// fetchHangLimit is how long a fetch with --timeout 200ms may run before
// the test kills it as hung (the old code hung forever).
const fetchHangLimit = 5 * time.Second

// fetchServer answers every request in one mode and counts them.
type fetchServer struct {
	mode  string
	reqs  atomic.Int32
	first chan struct{} // closed when the first request arrives
	once  sync.Once
	stop  chan struct{}
	url   string
}

func newFetchServer(t *testing.T, mode string) *fetchServer {
	s := &fetchServer{mode: mode, first: make(chan struct{}), stop: make(chan struct{})}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(s.stop) }) // runs first: stalled handlers return
	s.url = srv.URL + "/mirror/cifar-10-python.tar.gz"
	return s
}

func (s *fetchServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.reqs.Add(1)
	s.once.Do(func() { close(s.first) })
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
	const size = "170498071" // the official python archive's
	switch s.mode {
	case "404":
		http.NotFound(w, r)
	case "500":
		http.Error(w, "boom", http.StatusInternalServerError)
	case "stall":
		w.Header().Set("Content-Length", size)
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		wait(time.Hour)
	case "trickle":
		w.Header().Set("Content-Length", size)
		w.WriteHeader(http.StatusOK)
		for {
			w.Write([]byte{0x1f})
			w.(http.Flusher).Flush()
			if !wait(300 * time.Millisecond) {
				return
			}
		}
	case "some-then-stall":
		w.Header().Set("Content-Length", size)
		w.WriteHeader(http.StatusOK)
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		wait(time.Hour)
	}
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) (url string, accepts *atomic.Int32) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepts = new(atomic.Int32)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			mu.Lock()
			conns = append(conns, c)
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
	return "http://" + ln.Addr().String() + "/cifar-10-python.tar.gz", accepts
}

// startFetch starts 'nnkern data fetch cifar10 ARGS... --dir DIR'.
func startFetch(t *testing.T, dir string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"data", "fetch", "cifar10", "--dir", dir}, args...)...)
	cmd.Env = append(os.Environ(), "NNKERN_DATA=", "NNKERN_CACHE="+filepath.Join(dir, ".cache"))
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &so, &se
}

// waitFetch waits for the command, killing it and failing the test if it
// runs longer than limit.
func waitFetch(t *testing.T, cmd *exec.Cmd, se *bytes.Buffer, limit time.Duration) (int, time.Duration) {
	t.Helper()
	t0 := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		code := 0
		// A process the signal killed (not handled) has code -1: only
		// nnkern's own exit gives 128+signal.
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, time.Since(t0)
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Fatalf("nnkern data fetch still running after %v: it hangs (stderr %q)", limit, se.String())
		return 0, 0
	}
}

// leftFiles lists what a failed fetch left in dir (nothing, or no dir).
func leftFiles(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		st, _ := e.Info()
		names = append(names, e.Name()+" ("+strconv.FormatInt(st.Size(), 10)+" bytes)")
	}
	return names
}

// A server that stalls after the headers, one that never answers and one
// that trickles a byte per 300ms: each fetch gives up after --timeout with
// one line, exit 1, and leaves nothing behind but the trickled bytes.
func TestDataFetchStalledServers(t *testing.T) {
	silent, accepts := silentServer(t)
	for _, tc := range []struct {
		name, url, want string
		keeps           bool
	}{
		{"stall-after-headers", newFetchServer(t, "stall").url, "no byte received for 200ms", false},
		{"never-answers", silent, "no response for 200ms", false},
		{"trickle", newFetchServer(t, "trickle").url, "no byte received for 200ms", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			cmd, so, se := startFetch(t, dir, "--url", tc.url, "--timeout", "200ms", "--retries", "0")
			code, took := waitFetch(t, cmd, se, fetchHangLimit)
			lines := strings.Split(strings.TrimSpace(se.String()), "\n")
			if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], tc.want) || !strings.Contains(lines[0], "data fetch cifar10") {
				t.Fatalf("exit %d after %v, stderr %q (want one line with %q), stdout %q", code, took, se.String(), tc.want, so.String())
			}
			if took > 2*time.Second {
				t.Errorf("took %v with --timeout 200ms", took)
			}
			left := leftFiles(t, dir)
			if tc.keeps {
				if len(left) != 1 || !strings.HasPrefix(left[0], "cifar-10-python.tar.gz.part (") || strings.Contains(left[0], "(0 bytes)") {
					t.Fatalf("left %q, want the trickled bytes in the .part", left)
				}
			} else if len(left) != 0 {
				t.Fatalf("left %q after a failure before the first byte", left)
			}
		})
	}
	if n := accepts.Load(); n != 1 {
		t.Errorf("%d connections to the silent server with --retries 0, want 1", n)
	}
}

// 404 is final, 500 is retried (with a note on stderr); neither leaves a
// .part.
func TestDataFetchHTTPErrors(t *testing.T) {
	s := newFetchServer(t, "404")
	dir := filepath.Join(t.TempDir(), "cache")
	cmd, _, se := startFetch(t, dir, "--url", s.url, "--timeout", "200ms", "--retries", "3")
	code, _ := waitFetch(t, cmd, se, fetchHangLimit)
	if code != 1 || !strings.Contains(se.String(), "server error: 404") || strings.Count(se.String(), "\n") != 1 {
		t.Fatalf("404: exit %d, stderr %q", code, se.String())
	}
	if n := s.reqs.Load(); n != 1 {
		t.Errorf("404 asked %d times, want 1", n)
	}
	if left := leftFiles(t, dir); len(left) != 0 {
		t.Errorf("404 left %q", left)
	}

	s = newFetchServer(t, "500")
	dir = filepath.Join(t.TempDir(), "cache")
	cmd, _, se = startFetch(t, dir, "--url", s.url, "--timeout", "200ms", "--retries", "1")
	code, _ = waitFetch(t, cmd, se, fetchHangLimit)
	lines := strings.Split(strings.TrimSpace(se.String()), "\n")
	if code != 1 || len(lines) != 2 || !strings.Contains(lines[0], "attempt 1 failed: server error: 500") ||
		!strings.Contains(lines[0], "retrying in 1s") || !strings.Contains(lines[1], "gave up after 2 attempts") {
		t.Fatalf("500: exit %d, stderr %q", code, se.String())
	}
	if n := s.reqs.Load(); n != 2 {
		t.Errorf("500 asked %d times with --retries 1, want 2", n)
	}
	if left := leftFiles(t, dir); len(left) != 0 {
		t.Errorf("500 left %q", left)
	}
}

// SIGTERM and SIGINT stop a fetch at once with 128+signal, keeping the
// bytes that came and leaving no empty .part.
func TestDataFetchSignals(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		mode string
		keep int64
	}{
		{syscall.SIGTERM, "stall", 0},
		{syscall.SIGINT, "stall", 0},
		{syscall.SIGTERM, "some-then-stall", 1000},
	} {
		t.Run(tc.sig.String()+"/"+tc.mode, func(t *testing.T) {
			s := newFetchServer(t, tc.mode)
			dir := filepath.Join(t.TempDir(), "cache")
			cmd, _, se := startFetch(t, dir, "--url", s.url, "--timeout", "1m")
			select {
			case <-s.first:
			case <-time.After(fetchHangLimit):
				cmd.Process.Kill()
				t.Fatal("no request reached the server")
			}
			// The request has reached the server; let the bytes it sends
			// land (a fixed sleep could signal before they did on a
			// loaded machine).
			part := filepath.Join(dir, "cifar-10-python.tar.gz.part")
			for deadline := time.Now().Add(fetchHangLimit); ; time.Sleep(5 * time.Millisecond) {
				st, err := os.Stat(part)
				if tc.keep == 0 || err == nil && st.Size() == tc.keep {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("%s did not reach %d bytes", part, tc.keep)
				}
			}
			cmd.Process.Signal(tc.sig)
			code, _ := waitFetch(t, cmd, se, fetchHangLimit)
			if code != 128+int(tc.sig) || !strings.Contains(se.String(), "interrupted") || strings.Count(se.String(), "\n") != 1 {
				t.Fatalf("exit %d, stderr %q; want %d and one line", code, se.String(), 128+int(tc.sig))
			}
			left := leftFiles(t, dir)
			if tc.keep == 0 && len(left) != 0 {
				t.Fatalf("left %q", left)
			}
			if tc.keep > 0 && (len(left) != 1 || left[0] != "cifar-10-python.tar.gz.part (1000 bytes)") {
				t.Fatalf("left %q, want the 1000 bytes kept for resume", left)
			}
		})
	}
}

func TestDataFetchFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"data", "fetch", "cifar10", "--url", "ftp://example.org/c.tgz"}, "--url"},
		{[]string{"data", "fetch", "cifar10", "--url", "c.tgz"}, "--url"},
		{[]string{"data", "fetch", "mnist", "--url", "http://example.org/m.tgz"}, "--url"},
		{[]string{"data", "fetch", "cifar10", "--timeout", "-1s"}, "--timeout"},
		{[]string{"data", "fetch", "cifar10", "--timeout", "soon"}, "timeout"},
		{[]string{"data", "fetch", "cifar10", "--retries", "-1"}, "--retries"},
	} {
		r := nnkern(t, dir, nil, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q (want 2 and %q)", c.args, r.code, r.stderr, c.want)
		}
	}
	r := mustRun(t, dir, nil, "data", "fetch", "-h")
	for _, f := range []string{"--url", "--timeout", "--retries", "default 1m0s"} {
		if !strings.Contains(r.stdout, strings.TrimPrefix(f, "-")) {
			t.Errorf("data fetch -h lacks %q:\n%s", f, r.stdout)
		}
	}
}

// Class names come from the data: one that clears the screen and sets the
// terminal's title is printed escaped.
func TestDataInfoEscapesClassNames(t *testing.T) {
	dir := t.TempDir()
	mk := func(n int) cifar.Split {
		s := cifar.Split{N: n, H: 32, W: 32, C: 3, X: make([]uint8, n*32*32*3), Y: make([]uint8, n)}
		for i := range s.Y {
			s.Y[i] = uint8(i % 2)
			s.X[i*32*32*3] = uint8(i)
		}
		return s
	}
	d := filepath.Join(dir, "cifar-10-batches-bin")
	ds := &cifar.Dataset{Train: mk(10), Test: mk(4), ClassNames: []string{"cat", "dog"}}
	if err := cifar.WriteBinaryDir(d, ds); err != nil {
		t.Fatal(err)
	}
	const evil = "\x1b[2J\x1b]0;PWNED\a"
	if err := os.WriteFile(filepath.Join(d, "batches.meta.txt"), []byte(evil+"\ndog\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, dir, nil, "data", "info", d)
	if strings.ContainsRune(r.stdout+r.stderr, 0x1b) || strings.ContainsRune(r.stdout, 0x07) {
		t.Fatalf("data info printed raw control bytes:\n%q", r.stdout)
	}
	if !strings.Contains(r.stdout, `\x1b[2J\x1b]0;PWNED\x07`) || !strings.Contains(r.stdout, "dog") {
		t.Fatalf("data info does not show the class name escaped:\n%s", r.stdout)
	}
}
