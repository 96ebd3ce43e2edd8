package fileio

import (
	"bytes"
	"fmt"
	"io"

	"github.com/nnkern/nnkern/internal/loadlimit"
	"github.com/nnkern/nnkern/internal/regfile"
)

// ReadFileLimit reads the whole of the regular file path (see
// regfile.Open) if it holds at most limit bytes; limit <= 0 means the load
// budget (loadlimit.Budget, NNKERN_LOAD_LIMIT). The size is checked before
// anything is read, and the read stops at limit+1 bytes in case the file
// grew in between. Errors do not repeat the path; the one about the size
// gives it and the limit, and names NNKERN_LOAD_LIMIT when the budget is
// what refused it.
func ReadFileLimit(path string, limit int64) ([]byte, error) {
	budget, err := loadlimit.Budget(0)
	if err != nil {
		return nil, err
	}
	hint := ""
	if limit <= 0 || limit >= budget {
		limit, hint = budget, " ("+loadlimit.EnvVar+")"
	}
	f, st, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > limit {
		return nil, fmt.Errorf("%d bytes, more than the %d this file may have%s", st.Size(), limit, hint)
	}
	// One allocation of the size the file has (io.ReadAll would double
	// its way there, peaking at about twice the size).
	var buf bytes.Buffer
	buf.Grow(int(st.Size()) + bytes.MinRead)
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("more than the %d bytes this file may have%s (it grew while being read)", limit, hint)
	}
	return b, nil
}
