package nprand

// mt19937 is the Mersenne Twister state exactly as numpy's legacy
// RandomState keeps it (numpy/random/src/mt19937): 624 words and a position.
type mt19937 struct {
	key [mtN]uint32
	pos int
}

const (
	mtN       = 624
	mtM       = 397
	matrixA   = 0x9908b0df
	upperMask = 0x80000000
	lowerMask = 0x7fffffff
)

// seed is numpy's mt19937_seed (Matsumoto and Nishimura's init_genrand),
// which np.random.seed(int) uses for a seed in [0, 2³²).
func (m *mt19937) seed(s uint32) {
	for i := 0; i < mtN; i++ {
		m.key[i] = s
		s = 1812433253*(s^(s>>30)) + uint32(i) + 1
	}
	m.pos = mtN
}

// gen refills the 624-word block (numpy's mt19937_gen).
func (m *mt19937) gen() {
	var y uint32
	i := 0
	for ; i < mtN-mtM; i++ {
		y = (m.key[i] & upperMask) | (m.key[i+1] & lowerMask)
		m.key[i] = m.key[i+mtM] ^ (y >> 1) ^ (-(y & 1) & matrixA)
	}
	for ; i < mtN-1; i++ {
		y = (m.key[i] & upperMask) | (m.key[i+1] & lowerMask)
		m.key[i] = m.key[i+(mtM-mtN)] ^ (y >> 1) ^ (-(y & 1) & matrixA)
	}
	y = (m.key[mtN-1] & upperMask) | (m.key[0] & lowerMask)
	m.key[mtN-1] = m.key[mtM-1] ^ (y >> 1) ^ (-(y & 1) & matrixA)
	m.pos = 0
}

// next32 returns the next tempered 32-bit output (numpy's mt19937_next32).
func (m *mt19937) next32() uint32 {
	if m.pos == mtN {
		m.gen()
	}
	y := m.key[m.pos]
	m.pos++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// next64 is numpy's mt19937_next64: two 32-bit outputs, the first one high.
func (m *mt19937) next64() uint64 {
	hi := uint64(m.next32())
	return hi<<32 | uint64(m.next32())
}

// nextDouble is numpy's mt19937_next_double: a 53-bit uniform in [0, 1).
func (m *mt19937) nextDouble() float64 {
	a := m.next32() >> 5
	b := m.next32() >> 6
	return (float64(float64(a)*67108864.0) + float64(b)) / 9007199254740992.0
}
