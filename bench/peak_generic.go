//go:build !amd64 || !gc || purego

package bench

import (
	"encoding/binary"

	"github.com/nnkern/nnkern/kernels"
)

const asmProbes = false

func fmaAsm(level kernels.Level, f64 bool, trips int) (flops, sum float64, ok bool) {
	return 0, 0, false
}

func fmaChainsAsm(level kernels.Level, f64 bool) (chains, lanes int) { return 0, 0 }

// readBuf streams buf through four independent xor chains in Go.
func readBuf(buf []byte) uint64 {
	var a, b, c, d uint64
	for i := 0; i+32 <= len(buf); i += 32 {
		a ^= binary.LittleEndian.Uint64(buf[i:])
		b ^= binary.LittleEndian.Uint64(buf[i+8:])
		c ^= binary.LittleEndian.Uint64(buf[i+16:])
		d ^= binary.LittleEndian.Uint64(buf[i+24:])
	}
	return a ^ b ^ c ^ d
}

const readImpl = "go"

const clockTrip = 0

func clockChain(trips int) uint64 { return 0 }
