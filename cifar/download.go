package cifar

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// An archive Download can fetch.
type archive struct {
	File string
	Size int64
	MD5  string
}

// downloadBase is where the official archives live (a variable so tests
// can point it at a local server).
var downloadBase = "https://www.cs.toronto.edu/~kriz/"

// archives are the official CIFAR-10 archives, by variant name.
var archives = map[string]archive{
	"python": {"cifar-10-python.tar.gz", 170498071, "c58f30108f718f92721af3b95e74349a"},
	"binary": {"cifar-10-binary.tar.gz", 170052171, "c32a1d4ab5d03f1284b67883e8d87530"},
}

// variantAliases maps the accepted variant spellings to archives keys.
var variantAliases = map[string]string{
	"python": "python", "cifar10": "python", "cifar-10-python.tar.gz": "python",
	"binary": "binary", "cifar10-bin": "binary", "cifar-10-binary.tar.gz": "binary",
}

// Download fetches a CIFAR-10 archive into dir and returns its path.
// variant is "python" (also "cifar10" or "cifar-10-python.tar.gz",
// 170,498,071 bytes, md5 c58f30108f718f92721af3b95e74349a) or "binary"
// (also "cifar10-bin" or "cifar-10-binary.tar.gz", 170,052,171 bytes, md5
// c32a1d4ab5d03f1284b67883e8d87530), from https://www.cs.toronto.edu/~kriz/.
//
// The bytes go to <file>.part; an existing .part is resumed with an HTTP
// Range request. Only when the size and the md5 match is the file renamed
// to its final name, so an interrupted, truncated or corrupted download
// never leaves a file Load would accept; errors say which check failed. A
// .part with the wrong md5 is deleted. If the final file already exists
// with the right size and md5, Download returns at once. progress, if not
// nil, is called with the bytes done so far and the total.
func Download(ctx context.Context, dir, variant string, progress func(done, total int64)) (string, error) {
	key, ok := variantAliases[variant]
	if !ok {
		return "", fmt.Errorf("cifar.Download: unknown variant %q (want python or binary)", variant)
	}
	a := archives[key]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cifar.Download: %w", err)
	}
	final := filepath.Join(dir, a.File)
	if st, err := os.Stat(final); err == nil && st.Size() == a.Size {
		if sum, err := fileMD5(final); err == nil && sum == a.MD5 {
			if progress != nil {
				progress(a.Size, a.Size)
			}
			return final, nil
		}
	}
	part := final + ".part"
	if err := fetch(ctx, downloadBase+a.File, part, a.Size, progress); err != nil {
		return "", fmt.Errorf("cifar.Download %s: %w", a.File, err)
	}
	sum, err := fileMD5(part)
	if err != nil {
		return "", fmt.Errorf("cifar.Download %s: %w", a.File, err)
	}
	if sum != a.MD5 {
		os.Remove(part)
		return "", fmt.Errorf("cifar.Download %s: md5 check failed: got %s, want %s (the partial file was deleted; retry)", a.File, sum, a.MD5)
	}
	if err := os.Rename(part, final); err != nil {
		return "", fmt.Errorf("cifar.Download: %w", err)
	}
	return final, nil
}

// fetch brings part up to size bytes from url, resuming what it holds.
func fetch(ctx context.Context, url, part string, size int64, progress func(done, total int64)) error {
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if have > size { // not ours or corrupt: start again
		if err := f.Truncate(0); err != nil {
			return err
		}
		have = 0
	}
	if have < size {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if have > 0 {
			req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusPartialContent && have > 0:
			if start, ok := contentRangeStart(resp.Header.Get("Content-Range")); !ok || start != have {
				return fmt.Errorf("server answered range %d- with Content-Range %q", have, resp.Header.Get("Content-Range"))
			}
		case resp.StatusCode == http.StatusOK:
			if have > 0 { // no range support: start again
				if _, err := f.Seek(0, io.SeekStart); err != nil {
					return err
				}
				if err := f.Truncate(0); err != nil {
					return err
				}
				have = 0
			}
		default:
			return fmt.Errorf("server error: %s", resp.Status)
		}
		if progress != nil {
			progress(have, size)
		}
		w := &progressWriter{w: f, done: have, total: size, progress: progress}
		n, err := io.Copy(w, io.LimitReader(resp.Body, size-have+1))
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("interrupted after %d of %d bytes (kept for resume): %w", have+n, size, ctx.Err())
			}
			return fmt.Errorf("interrupted after %d of %d bytes (kept for resume): %w", have+n, size, err)
		}
		have += n
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if have != size {
		if have > size {
			f.Truncate(0)
			return fmt.Errorf("size check failed: the server sent more than %d bytes (the partial file was reset)", size)
		}
		return fmt.Errorf("size check failed: got %d of %d bytes (kept for resume)", have, size)
	}
	return nil
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
