package textesc

import "testing"

func TestEscape(t *testing.T) {
	cases := []struct{ in, want string }{
		{"airplane", "airplane"},
		{"", ""},
		{"café ñandú 猫", "café ñandú 猫"},
		{"\x1b[2J\x1b]0;PWNED\a", `\x1b[2J\x1b]0;PWNED\x07`},
		{"a\nb\rc\td", `a\nb\rc\td`},
		{`back\slash`, `back\\slash`},
		{"del\x7f", `del\x7f`},
		{"c1\u009b31m", `c1\u009b31m`},
		{"bidi\u202eevil", `bidi\u202eevil`},
		{"zw\u200bj", `zw\u200bj`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"nul\x00", `nul\x00`},
	}
	for _, c := range cases {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestEscapeNoControlOut checks over every single byte and a range of runes
// that nothing Escape returns contains a control or format character.
func TestEscapeNoControlOut(t *testing.T) {
	for c := 0; c < 256; c++ {
		checkPrintable(t, Escape(string([]byte{'x', byte(c), 'y'})))
	}
	for r := rune(0x80); r < 0x3000; r++ {
		checkPrintable(t, Escape("x"+string(r)+"y"))
	}
}

func checkPrintable(t *testing.T, s string) {
	t.Helper()
	for i, r := range s {
		if r < 0x20 || r == 0x7f || unsafeRune(r) || r == 0xfffd {
			t.Fatalf("Escape output %q has %U at byte %d", s, r, i)
		}
	}
}

func TestEscapeCleanDoesNotAllocate(t *testing.T) {
	s := "automobile"
	if n := testing.AllocsPerRun(100, func() { _ = Escape(s) }); n != 0 {
		t.Fatalf("Escape of clean text allocates %v times", n)
	}
}
