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
	"io/fs"
	"path"
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
			return nil, counts, fmt.Errorf("cifar: %s: %s: class %q has no train/ folder", where, esc(e.name), e.class)
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

// decode decodes data for entry e into its row.
func (d *imageDest) decode(e *imgEntry, data []byte, where string) error {
	// Check the declared size before decoding, so that a header claiming a
	// huge image is refused before the decoder allocates it.
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("cifar: %s: %s: %w", where, esc(e.name), err)
	}
	if cfg.Width != d.w || cfg.Height != d.h {
		return fmt.Errorf("cifar: %s: %s: image is %dx%d but the others are %dx%d (all images must share one size)",
			where, esc(e.name), cfg.Width, cfg.Height, d.w, d.h)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("cifar: %s: %s: %w", where, esc(e.name), err)
	}
	b := img.Bounds()
	if b.Dx() != d.w || b.Dy() != d.h {
		return fmt.Errorf("cifar: %s: %s: image is %dx%d but the others are %dx%d (all images must share one size)",
			where, esc(e.name), b.Dx(), b.Dy(), d.w, d.h)
	}
	s := &d.ds.Train
	if e.split == 1 {
		s = &d.ds.Test
	}
	s.Y[e.row] = e.label
	if err := toRGB(s.Image(e.row), img); err != nil {
		return fmt.Errorf("cifar: %s: %s: %w", where, esc(e.name), err)
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

// newDecodePool starts workers decoders; at most workers jobs wait in the
// queue, which bounds the image files held in memory at once.
func newDecodePool(workers int) *decodePool {
	p := &decodePool{jobs: make(chan func() error, workers), stop: make(chan struct{})}
	for range workers {
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

// maxImageRatio bounds the decoded RGB bytes per byte of image file: deflate
// expands at most 1032:1, a 1-bit PNG turns one bit into 3 bytes (24× more),
// and JPEG's smallest blocks are within that. Image files that are mostly
// a header claiming large images are refused before the budget is asked.
const maxImageRatio = 1 << 15

// maxImageFile bounds the size of one image file in an image folder.
const maxImageFile = 64 << 20

// imageListing is the first step of loading an image folder: every image
// entry, with the bytes of the first one (whose header gives the size all
// images must share).
type imageListing struct {
	where      string // the folder or archive
	entries    []*imgEntry
	byName     map[string]*imgEntry
	first      []byte
	firstEntry string // the name of the image whose bytes are first
	inBytes    int64  // the image files' sizes, summed
	budget     *budget
}

func (s *loadSrc) newImageListing(where string) *imageListing {
	return &imageListing{where: where, byName: map[string]*imgEntry{}, budget: s.budget}
}

// entryCost is what listing one image costs in memory besides its name.
const entryCost = 160

// add lists one image of size bytes.
func (l *imageListing) add(name string, split int, class string, size int64) error {
	if size > maxImageFile {
		return fmt.Errorf("cifar: %s: %s: %d bytes is too large for an image", l.where, esc(name), size)
	}
	if l.byName[name] != nil {
		return fmt.Errorf("cifar: %s: %s appears twice", l.where, esc(name))
	}
	if err := l.budget.take(entryCost+int64(len(name)), l.where, fmt.Sprintf("a listing of %d images", len(l.entries)+1)); err != nil {
		return err
	}
	e := &imgEntry{split: split, class: class, name: name}
	l.inBytes += size
	l.entries = append(l.entries, e)
	l.byName[name] = e
	return nil
}

// addTarMember lists an image member of an archive (and reads it if it is
// the first).
func (l *imageListing) addTarMember(t *tarPass, hdr *tar.Header, name string, split int, class string) error {
	if err := l.add(name, split, class, hdr.Size); err != nil {
		return err
	}
	if l.first == nil {
		l.firstEntry = name
		var err error
		if l.first, err = io.ReadAll(t.tr); err != nil {
			return fmt.Errorf("cifar: %s: %s: %w", l.where, esc(name), err)
		}
	}
	return nil
}

// imagePlan is what decoding needs, fixed from the listing and the first
// image's header before anything large is allocated.
type imagePlan struct {
	dest    *imageDest
	workers int
	fileCap int64 // the largest image file accepted for images of this size
	listing *imageListing
}

// plan orders the listing, reads the size every image must have from the
// first image's header, and takes from the budget the dataset (images ×
// pixels) and the decoders' working memory, before allocating either.
func (l *imageListing) plan() (*imagePlan, error) {
	classes, counts, err := imageIndex(l.where, l.entries)
	if err != nil {
		return nil, err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(l.first))
	if err != nil {
		return nil, fmt.Errorf("cifar: %s: %s: %w", l.where, esc(l.firstEntry), err)
	}
	h, w, n := int64(cfg.Height), int64(cfg.Width), int64(len(l.entries))
	name := esc(l.firstEntry)
	if h <= 0 || w <= 0 {
		return nil, fmt.Errorf("cifar: %s: %s: image is %dx%d", l.where, name, w, h)
	}
	if _, ok := mulBounded(maxImagePixels, h, w); !ok {
		return nil, fmt.Errorf("cifar: %s: %s: image is %dx%d, more than the %d pixels an image folder's images may have", l.where, name, w, h, maxImagePixels)
	}
	size, ok := mulBounded(1<<62, n, h*w*3+1)
	if !ok {
		size = -1
	}
	if size < 0 || size > l.inBytes*maxImageRatio {
		return nil, fmt.Errorf("cifar: %s: %s: %d images of %dx%d would take %d bytes, more than %d bytes of image files can encode",
			l.where, name, n, w, h, size, l.inBytes)
	}
	if err := l.budget.take(size, l.where+": "+name, fmt.Sprintf("%d images of %dx%d", n, w, h)); err != nil {
		return nil, err
	}
	// A decoder holds the image file, the decoded image (up to 8 bytes a
	// pixel: 16-bit RGBA) and its own buffers; while one file is read, as
	// many wait in the queue as there are decoders.
	fileCap := min(maxImageFile, 1<<20+4*h*w)
	perWorker := 2*fileCap + 10*h*w
	workers := int(min(int64(runtime.GOMAXPROCS(0)), l.budget.remaining()/perWorker))
	if workers < 1 {
		workers = 1
	}
	if err := l.budget.take(int64(workers)*perWorker+fileCap, l.where+": "+name, fmt.Sprintf("decoding %dx%d images", w, h)); err != nil {
		return nil, err
	}
	return &imagePlan{dest: newImageDest(classes, counts, int(h), int(w)), workers: workers, fileCap: fileCap, listing: l}, nil
}

// checkFile refuses an image file larger than images of the plan's size
// can need, before it is read.
func (p *imagePlan) checkFile(name string, size int64) error {
	if size > p.fileCap {
		return fmt.Errorf("cifar: %s: %s: %d bytes, more than a %dx%d image file may have (%d)", p.listing.where, esc(name), size, p.dest.w, p.dest.h, p.fileCap)
	}
	return nil
}

// loadImageFolderDir loads dir/train/<class>/* and dir/test/<class>/*.
func (s *loadSrc) loadImageFolderDir(dir string) (*Dataset, error) {
	l := s.newImageListing(dir)
	for split, sname := range []string{"train", "test"} {
		sdir := s.join(dir, sname)
		classDirs, err := fs.ReadDir(s.fsys, sdir)
		if err != nil {
			return nil, pathError(err)
		}
		for _, cd := range classDirs {
			if !cd.IsDir() {
				continue
			}
			files, err := fs.ReadDir(s.fsys, s.join(sdir, cd.Name()))
			if err != nil {
				return nil, pathError(err)
			}
			n := 0
			for _, f := range files {
				// Only regular files: a symbolic link, FIFO or device among
				// the images is skipped.
				if !f.Type().IsRegular() || !isImageName(f.Name()) {
					continue
				}
				info, err := f.Info()
				if err != nil {
					return nil, pathError(err)
				}
				if err := l.add(path.Join(sname, cd.Name(), f.Name()), split, cd.Name(), info.Size()); err != nil {
					return nil, err
				}
				n++
			}
			if n == 0 {
				return nil, fmt.Errorf("cifar: %s: class folder has no images (want .png, .jpg or .jpeg files)", esc(s.join(sdir, cd.Name())))
			}
		}
	}
	if len(l.entries) > 0 {
		e := l.entries[0]
		l.firstEntry = e.name
		if err := s.withFile(s.join(dir, e.name), func(r io.Reader, size int64, _ string) error {
			var err error
			l.first, err = io.ReadAll(io.LimitReader(r, maxImageFile))
			return err
		}); err != nil {
			return nil, err
		}
	}
	p, err := l.plan()
	if err != nil {
		return nil, err
	}
	pool := newDecodePool(p.workers)
	for _, e := range l.entries {
		if !pool.submit(func() error {
			var data []byte
			if err := s.withFile(s.join(dir, e.name), func(r io.Reader, size int64, _ string) error {
				if err := p.checkFile(e.name, size); err != nil {
					return err
				}
				data = make([]byte, size)
				_, err := io.ReadFull(r, data)
				return err
			}); err != nil {
				return err
			}
			return p.dest.decode(e, data, dir)
		}) {
			break
		}
	}
	if err := pool.wait(); err != nil {
		return nil, err
	}
	return p.dest.ds, nil
}

// loadImageFolderTar decodes the images of an archive listed by a first
// pass (l), in a second pass.
func (s *loadSrc) loadImageFolderTar(l *imageListing) (*Dataset, error) {
	p, err := l.plan()
	if err != nil {
		return nil, err
	}
	t, err := s.openTar(l.where, false)
	if err != nil {
		return nil, err
	}
	defer t.close()
	pool := newDecodePool(p.workers)
	decoded := 0
	for {
		hdr, name, err := t.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			pool.fail(err)
			break
		}
		e := l.byName[name]
		if e == nil {
			continue
		}
		if err := t.dataMember(hdr, name); err != nil {
			pool.fail(err)
			break
		}
		if err := p.checkFile(name, hdr.Size); err != nil {
			pool.fail(err)
			break
		}
		data := make([]byte, hdr.Size)
		if _, err := io.ReadFull(t.tr, data); err != nil {
			pool.fail(fmt.Errorf("cifar: %s: %s: %w", l.where, esc(name), err))
			break
		}
		decoded++
		if !pool.submit(func() error { return p.dest.decode(e, data, l.where) }) {
			break
		}
	}
	if err := pool.wait(); err != nil {
		return nil, err
	}
	if decoded != len(l.entries) {
		return nil, fmt.Errorf("cifar: %s: %d images listed, %d found on the second pass (the archive changed while being read)", l.where, len(l.entries), decoded)
	}
	return p.dest.ds, nil
}
