package cifar

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register the decoders the image folder format accepts
	_ "image/png"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
)

// An image folder is loaded in two steps: list every image (for an archive:
// a pass over the tar headers), then decode them in parallel straight into
// their final rows, so memory holds only the final uint8 arrays.

type imgEntry struct {
	split int    // 0 train, 1 test
	class string // folder name
	name  string // path inside the folder or archive (for errors and sorting)
	label uint8
	row   int
}

// imageIndex orders the entries (classes sorted, files sorted within a
// class), assigns labels and rows, and returns the class names and counts.
func imageIndex(where string, entries []*imgEntry) (classes []string, counts [2]int, err error) {
	seen := map[string]bool{}
	for _, e := range entries {
		if e.split == 0 && !seen[e.class] {
			seen[e.class] = true
			classes = append(classes, e.class)
		}
	}
	if len(classes) == 0 {
		return nil, counts, fmt.Errorf("cifar: %s: no images in train/<class>/ (want .png, .jpg or .jpeg files)", where)
	}
	sort.Strings(classes)
	if len(classes) > 256 {
		return nil, counts, fmt.Errorf("cifar: %s: %d classes (at most 256)", where, len(classes))
	}
	label := map[string]int{}
	for i, c := range classes {
		label[c] = i
	}
	for _, e := range entries {
		l, ok := label[e.class]
		if !ok {
			return nil, counts, fmt.Errorf("cifar: %s: %s: class %q has no train/ folder", where, e.name, e.class)
		}
		e.label = uint8(l)
	}
	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.split != b.split {
			return a.split < b.split
		}
		if a.label != b.label {
			return a.label < b.label
		}
		return a.name < b.name
	})
	for _, e := range entries {
		e.row = counts[e.split]
		counts[e.split]++
	}
	if counts[1] == 0 {
		return nil, counts, fmt.Errorf("cifar: %s: no images in test/<class>/", where)
	}
	return classes, counts, nil
}

// imageDest holds the two splits being filled.
type imageDest struct {
	ds   *Dataset
	h, w int
}

func newImageDest(classes []string, counts [2]int, h, w int) *imageDest {
	ds := &Dataset{ClassNames: classes}
	d := h * w * 3
	ds.Train = Split{X: make([]uint8, counts[0]*d), Y: make([]uint8, counts[0]), N: counts[0], H: h, W: w, C: 3}
	ds.Test = Split{X: make([]uint8, counts[1]*d), Y: make([]uint8, counts[1]), N: counts[1], H: h, W: w, C: 3}
	return &imageDest{ds: ds, h: h, w: w}
}

// maxImageRatio bounds the decoded RGB bytes per byte of image file: deflate
// expands at most 1032:1, a 1-bit paletted PNG turns one bit into 3 bytes
// (24× more), and JPEG's smallest blocks are within that. Loaders refuse an
// image folder whose declared dimensions need more memory than its files
// can encode, before allocating it.
const maxImageRatio = 1 << 15

// checkImageSize validates the size h×w that the first image, name,
// declares for all n images whose files hold inBytes bytes in all.
func checkImageSize(where, name string, h, w, n int, inBytes int64) error {
	if h <= 0 || w <= 0 {
		return fmt.Errorf("cifar: %s: %s: image is %dx%d", where, name, w, h)
	}
	need := float64(n) * float64(h) * float64(w) * 3
	if limit := float64(inBytes) * maxImageRatio; need > limit {
		return fmt.Errorf("cifar: %s: %s: %d images of %dx%d would take %.0f bytes, more than %d bytes of image files can encode",
			where, name, n, w, h, need, inBytes)
	}
	return nil
}

// decode decodes data for entry e into its row.
func (d *imageDest) decode(e *imgEntry, data []byte, where string) error {
	// Check the declared size before decoding, so that a header claiming a
	// huge image is refused before the decoder allocates it.
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("cifar: %s: %s: %w", where, e.name, err)
	}
	if cfg.Width != d.w || cfg.Height != d.h {
		return fmt.Errorf("cifar: %s: %s: image is %dx%d but the others are %dx%d (all images must share one size)",
			where, e.name, cfg.Width, cfg.Height, d.w, d.h)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("cifar: %s: %s: %w", where, e.name, err)
	}
	b := img.Bounds()
	if b.Dx() != d.w || b.Dy() != d.h {
		return fmt.Errorf("cifar: %s: %s: image is %dx%d but the others are %dx%d (all images must share one size)",
			where, e.name, b.Dx(), b.Dy(), d.w, d.h)
	}
	s := &d.ds.Train
	if e.split == 1 {
		s = &d.ds.Test
	}
	s.Y[e.row] = e.label
	if err := toRGB(s.Image(e.row), img); err != nil {
		return fmt.Errorf("cifar: %s: %s: %w", where, e.name, err)
	}
	return nil
}

// toRGB writes img as H×W×3 bytes into dst.
func toRGB(dst []byte, img image.Image) error {
	b := img.Bounds()
	w := b.Dx()
	switch m := img.(type) {
	case *image.YCbCr:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			o := (y - b.Min.Y) * w * 3
			for x := b.Min.X; x < b.Max.X; x++ {
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				r, g, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				dst[o], dst[o+1], dst[o+2] = r, g, bb
				o += 3
			}
		}
	case *image.Gray:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			o := (y - b.Min.Y) * w * 3
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := 0; x < w; x++ {
				v := row[x]
				dst[o], dst[o+1], dst[o+2] = v, v, v
				o += 3
			}
		}
	case *image.NRGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			o := (y - b.Min.Y) * w * 3
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := 0; x < w; x++ {
				if row[4*x+3] != 0xff {
					return errors.New("image has transparent pixels (want RGB or gray)")
				}
				dst[o], dst[o+1], dst[o+2] = row[4*x], row[4*x+1], row[4*x+2]
				o += 3
			}
		}
	default:
		o := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				if c.A != 0xff {
					return errors.New("image has transparent pixels (want RGB or gray)")
				}
				dst[o], dst[o+1], dst[o+2] = c.R, c.G, c.B
				o += 3
			}
		}
	}
	return nil
}

// decodePool runs decode jobs on GOMAXPROCS workers; the first error wins.
type decodePool struct {
	jobs chan func() error
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
	stop chan struct{}

	submitted int
}

const gcEvery = 2048

func newDecodePool() *decodePool {
	p := &decodePool{jobs: make(chan func() error, 64), stop: make(chan struct{})}
	for range runtime.GOMAXPROCS(0) {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for job := range p.jobs {
				if p.failed() {
					continue
				}
				if err := job(); err != nil {
					p.fail(err)
				}
			}
		}()
	}
	return p
}

func (p *decodePool) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
		close(p.stop)
	}
	p.mu.Unlock()
}

func (p *decodePool) failed() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// submit queues a job; it returns false once a job failed.
func (p *decodePool) submit(job func() error) bool {
	// Decoding leaves ~15 KB of garbage per image while the live heap is the
	// dataset itself (noscan pixel arrays, cheap to mark); with the default
	// pacer the heap would grow to twice the dataset before a collection.
	// A collection every gcEvery images bounds the garbage instead (60000
	// CIFAR JPEGs: peak RSS about 250 MB instead of about 400 MB).
	p.submitted++
	if p.submitted%gcEvery == 0 {
		runtime.GC()
	}
	select {
	case p.jobs <- job:
		return true
	case <-p.stop:
		return false
	}
}

func (p *decodePool) wait() error {
	close(p.jobs)
	p.wg.Wait()
	return p.err
}

// maxImageFile bounds the size of one image file in an image folder.
const maxImageFile = 64 << 20

// loadImageFolderDir loads dir/train/<class>/* and dir/test/<class>/*.
func loadImageFolderDir(dir string) (*Dataset, error) {
	var entries []*imgEntry
	var inBytes int64 // sum of the image files' sizes
	for split, sname := range []string{"train", "test"} {
		sdir := filepath.Join(dir, sname)
		classDirs, err := os.ReadDir(sdir)
		if err != nil {
			return nil, fmt.Errorf("cifar: %w", err)
		}
		for _, cd := range classDirs {
			if !cd.IsDir() {
				continue
			}
			files, err := os.ReadDir(filepath.Join(sdir, cd.Name()))
			if err != nil {
				return nil, fmt.Errorf("cifar: %w", err)
			}
			n := 0
			for _, f := range files {
				if f.Type().IsRegular() && isImageName(f.Name()) {
					info, err := f.Info()
					if err != nil {
						return nil, fmt.Errorf("cifar: %w", err)
					}
					inBytes += info.Size()
					entries = append(entries, &imgEntry{split: split, class: cd.Name(), name: path.Join(sname, cd.Name(), f.Name())})
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("cifar: %s: class folder has no images (want .png, .jpg or .jpeg files)", filepath.Join(sdir, cd.Name()))
			}
		}
	}
	classes, counts, err := imageIndex(dir, entries)
	if err != nil {
		return nil, err
	}
	first, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(entries[0].name)))
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(first))
	if err != nil {
		return nil, fmt.Errorf("cifar: %s: %s: %w", dir, entries[0].name, err)
	}
	if err := checkImageSize(dir, entries[0].name, cfg.Height, cfg.Width, len(entries), inBytes); err != nil {
		return nil, err
	}
	dest := newImageDest(classes, counts, cfg.Height, cfg.Width)
	pool := newDecodePool()
	for _, e := range entries {
		if !pool.submit(func() error {
			p := filepath.Join(dir, filepath.FromSlash(e.name))
			st, err := os.Stat(p)
			if err != nil {
				return fmt.Errorf("cifar: %w", err)
			}
			if st.Size() > maxImageFile {
				return fmt.Errorf("cifar: %s: %d bytes is too large for an image", p, st.Size())
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("cifar: %w", err)
			}
			return dest.decode(e, data, dir)
		}) {
			break
		}
	}
	if err := pool.wait(); err != nil {
		return nil, err
	}
	return dest.ds, nil
}

// openTar opens a .tar or .tar.gz archive and the budget of its entries.
func openTar(p string) (*tar.Reader, *tarBudget, func() error, error) {
	r, closeFn, gz, err := openMaybeGzip(p)
	if err != nil {
		return nil, nil, nil, err
	}
	budget, err := newTarBudget(p, gz)
	if err != nil {
		closeFn()
		return nil, nil, nil, err
	}
	return tar.NewReader(r), budget, closeFn, nil
}

// loadImageFolderTar loads an image folder from a .tar or .tar.gz archive
// in two streaming passes (list, then decode).
func loadImageFolderTar(p string) (*Dataset, error) {
	tr, budget, closeFn, err := openTar(p)
	if err != nil {
		return nil, err
	}
	var entries []*imgEntry
	var inBytes int64 // sum of the image entries' sizes
	byName := map[string]*imgEntry{}
	var first []byte
	var firstEntry *imgEntry
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			closeFn()
			return nil, fmt.Errorf("cifar: %s: %w", p, err)
		}
		if err := budget.take(hdr); err != nil {
			closeFn()
			return nil, err
		}
		if !hdr.FileInfo().Mode().IsRegular() {
			continue
		}
		name := path.Clean(hdr.Name)
		split, class, ok := imageEntry(name)
		if !ok {
			continue
		}
		if hdr.Size > maxImageFile {
			closeFn()
			return nil, fmt.Errorf("cifar: %s: %s: %d bytes is too large for an image", p, name, hdr.Size)
		}
		if byName[name] != nil {
			closeFn()
			return nil, fmt.Errorf("cifar: %s: %s appears twice in the archive", p, name)
		}
		e := &imgEntry{split: split, class: class, name: name}
		inBytes += hdr.Size
		entries = append(entries, e)
		byName[name] = e
		if first == nil {
			if first, err = io.ReadAll(tr); err != nil {
				closeFn()
				return nil, fmt.Errorf("cifar: %s: %s: %w", p, name, err)
			}
			firstEntry = e
		}
	}
	closeFn()
	classes, counts, err := imageIndex(p, entries)
	if err != nil {
		return nil, err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(first))
	if err != nil {
		return nil, fmt.Errorf("cifar: %s: %s: %w", p, firstEntry.name, err)
	}
	if err := checkImageSize(p, firstEntry.name, cfg.Height, cfg.Width, len(entries), inBytes); err != nil {
		return nil, err
	}
	dest := newImageDest(classes, counts, cfg.Height, cfg.Width)

	tr, _, closeFn, err = openTar(p)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	pool := newDecodePool()
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			pool.fail(fmt.Errorf("cifar: %s: %w", p, err))
			break
		}
		e := byName[path.Clean(hdr.Name)]
		if e == nil || !hdr.FileInfo().Mode().IsRegular() {
			continue
		}
		data := make([]byte, hdr.Size)
		if _, err := io.ReadFull(tr, data); err != nil {
			pool.fail(fmt.Errorf("cifar: %s: %s: %w", p, e.name, err))
			break
		}
		if !pool.submit(func() error { return dest.decode(e, data, p) }) {
			break
		}
	}
	if err := pool.wait(); err != nil {
		return nil, err
	}
	return dest.ds, nil
}
