package cifar

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// fuzzSlack is what one run of the interpreter may allocate beyond twice
// what it charged: its bufio.Reader (as large as the input, up to 64 KiB;
// 64 KiB when the size is unknown) and 8 KiB for the memo map's first
// table, a GLOBAL line and an error message.
func fuzzSlack(size int64) uint64 {
	if size < 0 || size > 64<<10 {
		return 72 << 10
	}
	return uint64(max(size, 16)) + 8<<10
}

// FuzzPickle runs arbitrary bytes through the interpreter and the batch and
// meta parsers: no panic, consistent results, and the memory budget holds.
// The interpreter runs with the bound sizeFactor×len+64 KiB (tight, so the
// fuzzer can reach it), and the Go heap it spends must stay within twice
// what it charged plus fuzzSlack: at most 7 bytes per input byte + 200 KiB,
// whatever the input. An opcode that allocates without charging (as
// _codecs.encode once did) fails here: the encode seed does without its
// charge.
func FuzzPickle(f *testing.F) {
	f.Add(readTestdata(f, "batch3.pkl"))
	f.Add(readTestdata(f, "batches.meta"))
	f.Add([]byte("\x80\x02cos\nsystem\nU\x07echo hi\x85R."))
	f.Add([]byte("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x04data\x94\x8c\x01x\x94u."))
	f.Add(amplification(4096, 10))
	f.Add(opcodeBomb("", "}\x94", 200))
	f.Add(opcodeBomb("]q\x00(", "h\x00", 200))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Both sizes under one measurement: ReadMemStats stops the world,
		// and is most of an execution's time.
		limit := int64(sizeFactor*len(data) + 64<<10)
		sizes := []int64{int64(len(data)), -1}
		var charged, slack uint64
		grew := heapGrowth(func() {
			for _, size := range sizes {
				u := newUnpickler(bytes.NewReader(data), size, "fuzz.pkl", nil, limit)
				u.run()
				if u.used > u.limit || u.limit > limit {
					t.Fatalf("size %d: charged %d bytes, limit %d (asked %d)", size, u.used, u.limit, limit)
				}
				charged += uint64(u.used)
				slack += fuzzSlack(size)
			}
		})
		if grew > 2*charged+slack {
			t.Fatalf("allocated %d bytes, charged %d", grew, charged)
		}
		for _, size := range sizes {
			b, err := parsePythonBatch(bytes.NewReader(data), size, "fuzz.pkl", nil, 0)
			if err == nil && len(b.chw) != b.n*cifarDim {
				t.Fatalf("batch of %d images with %d bytes", b.n, len(b.chw))
			}
			parsePythonMeta(bytes.NewReader(data), size, "fuzz.meta")
		}
		// Through the loader (scratch reuse, HWC conversion, labels).
		l := newSplitLoader()
		if err := l.addPython(5, bytes.NewReader(data), int64(len(data)), "fuzz.pkl"); err == nil {
			x, y, n, _ := l.test.finish()
			if len(x) != n*cifarDim || len(y) != n {
				t.Fatalf("loader holds %d bytes, %d labels for %d images", len(x), len(y), n)
			}
		}
	})
}

// amplification is finding 1 at a small scale: an n-byte str encoded reps
// times through memo GETs, into a list.
func amplification(n, reps int) []byte {
	b := []byte("\x80\x02]q\x00c_codecs\nencode\nq\x01X")
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = append(b, bytes.Repeat([]byte("a"), n)...)
	b = append(b, "q\x02U\x06latin1q\x03(h\x01h\x02h\x03\x86R"...)
	for range reps - 1 {
		b = append(b, "h\x01h\x02h\x03\x86R"...)
	}
	return append(b, "e."...)
}
