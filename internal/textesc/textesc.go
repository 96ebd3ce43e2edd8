// Package textesc makes strings read from files safe to print.
//
// Names and labels in data and model files come from whoever wrote the file;
// printed raw, an escape sequence in one can clear a terminal, set its title
// or hide text. Every string from a file that nnkern prints goes through
// Escape first, on a terminal or not (logs get viewed on terminals later).
//
//	fmt.Printf("class %d: %s\n", i, textesc.Escape(name))
package textesc

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every control character (C0, DEL, C1), every
// bidirectional formatting character (they reorder the text around them),
// every invalid UTF-8 byte and the backslash itself written as a Go escape
// (\n, \x1b, \u202e, \\), so the result prints as visible text and two
// different inputs never print the same. Printable text, including
// non-ASCII letters, is kept as it is.
func Escape(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// clean reports whether s needs no escaping (the common case, kept
// allocation-free).
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c == '\\' || c >= 0x80 {
			if c < 0x80 {
				return false
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
				return false
			}
			i += size - 1
		}
	}
	return true
}

// unsafeRune reports the non-ASCII runes Escape writes as \u escapes: C1
// controls, other format characters (bidi overrides and isolates, zero-width
// joiners) and unassigned or private-use code points.
func unsafeRune(r rune) bool {
	return r >= 0x80 && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || !unicode.IsPrint(r) && !unicode.IsSpace(r))
}
