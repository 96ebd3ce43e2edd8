// Package download fetches the official CIFAR-10 archives for package
// cifar: resumable, verified against the published size and md5 before the
// file takes its final name, given up on when the server stalls, and
// retried with backoff on transient errors. It prints nothing; progress goes
// to a callback.
//
// It is a package of its own so that a program that only reads data
// (cifar.Load) does not link net/http and crypto/tls.
//
//	path, err := download.CIFAR10(ctx, dir, "python", download.Options{
//		Progress: func(done, total int64) { ... },
//	})
//	if err != nil { ... }
//	ds, err := cifar.Load(path)
package download

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/nnkern/nnkern/cifar"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nnkern/nnkern/internal/textesc"
)

// Defaults for the zero fields of Options.
const (
	DefaultTimeout = 60 * time.Second
	DefaultMinRate = 1024 // bytes per second
	DefaultRetries = 3
	DefaultBackoff = time.Second
	maxBackoff     = 30 * time.Second
)

// Options tune CIFAR10. The zero value fetches from the official site with
// the defaults above.
type Options struct {
	// URL is the full URL of the archive, e.g. on a mirror; empty means the
	// official site. The official size and md5 are enforced whatever the
	// URL, and the file is saved under its official name.
	URL string

	// Timeout is how long an attempt waits for the next byte — the
	// connection and the response headers, then each read of the body —
	// before it is given up as stalled. It is not a limit on the whole
	// download. 0 means DefaultTimeout; negative means wait forever.
	Timeout time.Duration

	// MinRate, in bytes per second, also gives an attempt up as stalled
	// when the body arrives slower than that over a window of twice
	// Timeout, so a server that trickles a byte now and then, never idle
	// for a whole Timeout, does not hold the download for days. (The
	// window is twice Timeout so that a server that stops sending is
	// reported as idle.) 0 means DefaultMinRate; negative means no minimum;
	// no effect when Timeout is negative.
	MinRate int64

	// Retries is how many times a transient failure is retried: a
	// connection error, a stall, a body cut short, or a 5xx, 408 or 429
	// answer. Each retry resumes what the earlier attempts brought (when
	// the server honours Range). Any other 4xx answer, an unknown host, a
	// certificate that does not verify, an md5 or size mismatch, a local
	// file error or a cancelled context is never retried. 0 means
	// DefaultRetries; negative means none.
	Retries int

	// Backoff is the wait before the first retry; it doubles for each
	// further one, up to 30s. 0 means DefaultBackoff.
	Backoff time.Duration

	// Progress, if not nil, is called from the calling goroutine with the
	// bytes on disk so far and the archive's size.
	Progress func(done, total int64)

	// Retrying, if not nil, is called from the calling goroutine before
	// each retry with the number of the attempt that failed, its error and
	// the wait before the next one.
	Retrying func(attempt int, err error, wait time.Duration)
}

// An archive CIFAR10 can fetch.
type archive struct {
	File string
	Size int64
	MD5  string
}

// officialBase is where the official archives live (a variable so tests can
// point it at a local server).
var officialBase = "https://www.cs.toronto.edu/~kriz/"

// archives are the official CIFAR-10 archives (cifar.OfficialArchives),
// by variant name; a variable so tests can point one at a test payload.
var archives = func() map[string]archive {
	m := map[string]archive{}
	for _, a := range cifar.OfficialArchives() {
		m[a.Variant] = archive{a.File, a.Size, a.MD5}
	}
	return m
}()

// variantAliases maps the accepted variant spellings to archives keys.
var variantAliases = map[string]string{
	"python": "python", "cifar10": "python", "cifar-10-python.tar.gz": "python",
	"binary": "binary", "cifar10-bin": "binary", "cifar-10-binary.tar.gz": "binary",
}

// CIFAR10 fetches a CIFAR-10 archive into dir and returns its path.
// variant is "python" (also "cifar10" or "cifar-10-python.tar.gz",
// 170,498,071 bytes, md5 c58f30108f718f92721af3b95e74349a) or "binary"
// (also "cifar10-bin" or "cifar-10-binary.tar.gz", 170,052,171 bytes, md5
// c32a1d4ab5d03f1284b67883e8d87530), from https://www.cs.toronto.edu/~kriz/
// or opt.URL.
//
// The bytes go to <file>.part, created when the first byte arrives (a
// failure before that leaves no file); an existing .part is resumed with an
// HTTP Range request. Only when the size and the md5 match is the file
// renamed to its final name, so an interrupted, truncated or corrupted
// download never leaves a file cifar.Load would accept; errors say which
// check failed. A .part with the wrong md5 is deleted. If the final file
// already exists with the right size and md5, CIFAR10 returns at once.
// When ctx is cancelled the bytes so far stay in the .part and the error
// wraps ctx.Err().
func CIFAR10(ctx context.Context, dir, variant string, opt Options) (string, error) {
	key, ok := variantAliases[variant]
	if !ok {
		return "", fmt.Errorf("download: unknown variant %q (want python or binary)", variant)
	}
	a := archives[key]
	src := officialBase + a.File
	if opt.URL != "" {
		if err := checkURL(opt.URL); err != nil {
			return "", err
		}
		src = opt.URL
	}
	opt = withDefaults(opt)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("download: %w", err)
	}
	final := filepath.Join(dir, a.File)
	if st, err := os.Stat(final); err == nil && st.Mode().IsRegular() && st.Size() == a.Size {
		if sum, err := fileMD5(final); err == nil && sum == a.MD5 {
			if opt.Progress != nil {
				opt.Progress(a.Size, a.Size)
			}
			return final, nil
		}
	}
	part := final + ".part"
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("download %s from %s: %w", a.File, src, err)
	}

	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	backoff := opt.Backoff
	for attempt := 1; ; attempt++ {
		err := fetch(ctx, client, src, part, a.Size, &opt)
		if err == nil {
			break
		}
		removeIfEmpty(part)
		var te *transientError
		if !errors.As(err, &te) || attempt > opt.Retries || ctx.Err() != nil {
			if attempt > 1 {
				err = fmt.Errorf("%w; gave up after %d attempts", err, attempt)
			}
			return fail(err)
		}
		if opt.Retrying != nil {
			opt.Retrying(attempt, err, backoff)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fail(fmt.Errorf("interrupted while waiting to retry after %d attempts (%v): %w", attempt, err, ctx.Err()))
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
	sum, err := fileMD5(part)
	if err != nil {
		return fail(err)
	}
	if sum != a.MD5 {
		os.Remove(part)
		return fail(fmt.Errorf("md5 check failed: got %s, want %s (the partial file was deleted; retry)", sum, a.MD5))
	}
	if err := os.Rename(part, final); err != nil {
		return fail(err)
	}
	return final, nil
}

func withDefaults(o Options) Options {
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MinRate == 0 {
		o.MinRate = DefaultMinRate
	}
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	}
	o.Retries = max(o.Retries, 0)
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	return o
}

// checkURL accepts absolute http and https URLs with a host.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("download: URL %q: want the full http:// or https:// URL of the archive", s)
	}
	return nil
}

// transientError marks a failure worth retrying.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func transient(format string, args ...any) error {
	return &transientError{fmt.Errorf(format, args...)}
}

// stallError is the cause an attempt's context is cancelled with when the
// server stalls.
type stallError struct{ msg string }

func (e *stallError) Error() string { return e.msg }

// writeError marks a failure to write the .part file (not retried).
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// fetch makes one attempt to bring part up to size bytes from src,
// resuming what it holds.
func fetch(ctx context.Context, client *http.Client, src, part string, size int64, opt *Options) error {
	pf := &partFile{path: part}
	defer pf.close()
	have, err := pf.openExisting(size)
	if err != nil || have == size {
		return err
	}
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	wd := newWatchdog(opt.Timeout, opt.MinRate, cancel)
	defer wd.stop()

	req, err := http.NewRequestWithContext(actx, http.MethodGet, src, nil)
	if err != nil {
		return err
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := client.Do(req)
	if err != nil {
		return requestError(ctx, actx, err)
	}
	defer resp.Body.Close()
	wd.headersArrived()
	status := textesc.Escape(resp.Status)
	switch code := resp.StatusCode; {
	case code == http.StatusPartialContent && have > 0:
		cr := resp.Header.Get("Content-Range")
		if start, ok := contentRangeStart(cr); !ok || start != have {
			return fmt.Errorf("server answered range %d- with Content-Range %q", have, textesc.Escape(cr))
		}
	case code == http.StatusOK:
		if resp.ContentLength >= 0 && resp.ContentLength != size {
			return fmt.Errorf("server announces %d bytes, want %d (not this archive)", resp.ContentLength, size)
		}
		if have > 0 { // no range support: start again
			if err := pf.reset(); err != nil {
				return err
			}
			have = 0
		}
	case code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		return transient("server error: %s", status)
	default:
		return fmt.Errorf("server error: %s", status)
	}
	if opt.Progress != nil {
		opt.Progress(have, size)
	}
	w := &progressWriter{w: pf, done: have, total: size, progress: opt.Progress}
	body := &watchedReader{r: resp.Body, wd: wd}
	n, err := io.Copy(w, io.LimitReader(body, size-have+1))
	have += n
	if serr := pf.sync(); err == nil && serr != nil {
		err = &writeError{serr}
	}
	if err != nil {
		var we *writeError
		switch {
		case errors.As(err, &we):
			return fmt.Errorf("writing %s: %w", part, we.err)
		case ctx.Err() != nil:
			return fmt.Errorf("interrupted after %d of %d bytes%s: %w", have, size, kept(have), ctx.Err())
		}
		if se := stalled(actx); se != nil {
			return transient("%v after %d of %d bytes%s", se, have, size, kept(have))
		}
		return transient("connection lost: got %d of %d bytes%s: %v", have, size, kept(have), err)
	}
	if have > size {
		pf.reset()
		return fmt.Errorf("size check failed: the server sent more than %d bytes (the partial file was reset)", size)
	}
	if have < size {
		return transient("size check failed: got %d of %d bytes%s", have, size, kept(have))
	}
	return nil
}

func kept(have int64) string {
	if have > 0 {
		return " (kept for resume)"
	}
	return ""
}

// requestError classifies a failed request (no response).
func requestError(ctx, actx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted before the first byte: %w", ctx.Err())
	}
	if se := stalled(actx); se != nil {
		return &transientError{se}
	}
	var cv *tls.CertificateVerificationError
	var dns *net.DNSError
	if errors.As(err, &cv) || (errors.As(err, &dns) && dns.IsNotFound) {
		return err
	}
	return &transientError{err}
}

// stalled returns the watchdog's verdict if it cancelled actx.
func stalled(actx context.Context) error {
	var se *stallError
	if errors.As(context.Cause(actx), &se) {
		return se
	}
	return nil
}

// watchdog cancels an attempt when no byte arrives for timeout (before the
// headers: no response for timeout), or when fewer than minBytes body bytes
// arrive in a window of twice timeout.
type watchdog struct {
	timeout  time.Duration
	window2  time.Duration // the rate window: twice timeout
	minRate  int64
	minBytes int64 // minRate×window2
	cancel   context.CancelCauseFunc
	idle     *time.Timer  // used by the attempt's goroutine only
	got      atomic.Int64 // body bytes in the current window

	mu      sync.Mutex // guards window and done against checkRate
	window  *time.Timer
	stopped bool
}

func newWatchdog(timeout time.Duration, minRate int64, cancel context.CancelCauseFunc) *watchdog {
	wd := &watchdog{timeout: timeout, window2: 2 * timeout, minRate: minRate, cancel: cancel}
	if timeout <= 0 {
		return wd
	}
	if minRate > 0 {
		wd.minBytes = max(1, int64(float64(minRate)*wd.window2.Seconds()))
	}
	wd.idle = time.AfterFunc(timeout, func() {
		cancel(&stallError{fmt.Sprintf("no response for %v", timeout)})
	})
	return wd
}

func (wd *watchdog) headersArrived() {
	if wd.idle == nil {
		return
	}
	wd.idle.Stop()
	wd.idle = time.AfterFunc(wd.timeout, func() {
		wd.cancel(&stallError{fmt.Sprintf("no byte received for %v", wd.timeout)})
	})
	if wd.minBytes > 0 {
		wd.mu.Lock()
		wd.window = time.AfterFunc(wd.window2, wd.checkRate)
		wd.mu.Unlock()
	}
}

func (wd *watchdog) checkRate() {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.stopped {
		return
	}
	if n := wd.got.Swap(0); n < wd.minBytes {
		wd.cancel(&stallError{fmt.Sprintf("too slow: %d bytes in %v (the minimum is %d bytes/s)", n, wd.window2, wd.minRate)})
		return
	}
	wd.window.Reset(wd.window2)
}

func (wd *watchdog) arrived(n int) {
	if wd.idle == nil || n == 0 {
		return
	}
	wd.idle.Reset(wd.timeout)
	wd.got.Add(int64(n))
}

func (wd *watchdog) stop() {
	if wd.idle != nil {
		wd.idle.Stop()
	}
	wd.mu.Lock()
	wd.stopped = true
	if wd.window != nil {
		wd.window.Stop()
	}
	wd.mu.Unlock()
}

type watchedReader struct {
	r  io.Reader
	wd *watchdog
}

func (r *watchedReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.wd.arrived(n)
	return n, err
}

// partFile is the .part file, opened if it exists and created on the
// first write otherwise.
type partFile struct {
	path string
	f    *os.File
}

// openExisting opens an existing .part and returns how many bytes of it
// count (0 if it held more than size: not ours, started again).
func (p *partFile) openExisting(size int64) (int64, error) {
	f, err := os.OpenFile(p.path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	p.f = f
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	if have > size {
		return 0, p.reset()
	}
	return have, nil
}

func (p *partFile) reset() error {
	if p.f == nil {
		return nil
	}
	if err := p.f.Truncate(0); err != nil {
		return err
	}
	_, err := p.f.Seek(0, io.SeekStart)
	return err
}

func (p *partFile) Write(b []byte) (int, error) {
	if p.f == nil {
		f, err := os.OpenFile(p.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return 0, &writeError{err}
		}
		p.f = f
	}
	n, err := p.f.Write(b)
	if err != nil {
		err = &writeError{err}
	}
	return n, err
}

func (p *partFile) sync() error {
	if p.f == nil {
		return nil
	}
	return p.f.Sync()
}

func (p *partFile) close() {
	if p.f != nil {
		p.f.Close()
	}
}

// removeIfEmpty deletes a 0-byte .part: nothing to resume from.
func removeIfEmpty(part string) {
	if st, err := os.Lstat(part); err == nil && st.Mode().IsRegular() && st.Size() == 0 {
		os.Remove(part)
	}
}

// contentRangeStart parses "bytes START-END/TOTAL".
func contentRangeStart(s string) (int64, bool) {
	s, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, false
	}
	i := strings.IndexByte(s, '-')
	if i < 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(s[:i], 10, 64)
	return v, err == nil
}

type progressWriter struct {
	w           io.Writer
	done, total int64
	progress    func(done, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	if p.progress != nil {
		p.progress(p.done, p.total)
	}
	return n, err
}

func fileMD5(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
