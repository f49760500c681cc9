package quotepdf

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The document's one typeface: DejaVu Sans 2.37, regular and bold, from the
// DejaVu fonts project, with its licence in fonts/LICENSE (the text the fonts
// themselves carry). The licence lets the fonts be embedded and
// redistributed; fpdf embeds only the glyphs a document uses.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
)

// fontFamily is the name the fonts are registered under in a document.
const fontFamily = "DejaVuSans"

// replacement stands for a character the fonts cannot show.
const replacement = '\uFFFD'

// coverage is the set of characters both fonts can show: text is written in
// regular or bold, so a character must be in both to be shown either way.
type coverage struct {
	has      [0x10000 / 64]uint64 // one bit per character of the Basic Multilingual Plane
	fallback rune                 // replacement, or '?' if the fonts lack it
}

var (
	coverOnce sync.Once
	cover     *coverage
	coverErr  error
)

// fontCoverage parses the embedded fonts' character maps once.
func fontCoverage() (*coverage, error) {
	coverOnce.Do(func() {
		reg, err := cmapRunes(fontRegular)
		if err != nil {
			coverErr = fmt.Errorf("quotepdf: regular font: %w", err)
			return
		}
		bold, err := cmapRunes(fontBold)
		if err != nil {
			coverErr = fmt.Errorf("quotepdf: bold font: %w", err)
			return
		}
		c := &coverage{fallback: '?'}
		for i := range c.has {
			c.has[i] = reg[i] & bold[i]
		}
		if c.covers(replacement) {
			c.fallback = replacement
		}
		cover = c
	})
	return cover, coverErr
}

func (c *coverage) covers(r rune) bool {
	return r >= 0 && r < 0x10000 && c.has[r/64]&(1<<(uint(r)%64)) != 0
}

// line makes s safe to write on one line: invalid UTF-8 and characters the
// fonts lack become the replacement character, and line breaks, tabs and
// other control characters become spaces.
func (c *coverage) line(s string) string {
	return c.clean(s, false)
}

// text is line for text that keeps its line breaks (descriptions, terms):
// CRLF and CR become LF.
func (c *coverage) text(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return c.clean(s, true)
}

func (c *coverage) clean(s string, keepNewlines bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(c.fallback)
		case r == '\n' || r == '\r':
			if keepNewlines {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case c.covers(r):
			b.WriteRune(r)
		default:
			b.WriteRune(c.fallback)
		}
	}
	return b.String()
}

var errNoCmap = errors.New("no Unicode character map (format 4)")

// cmapRunes reads a TrueType font's Unicode BMP character map (format 4,
// platform 3 encoding 1 or platform 0) into a bit set of the characters
// that have a glyph.
func cmapRunes(font []byte) (*[0x10000 / 64]uint64, error) {
	u16 := func(off int) (int, bool) {
		if off < 0 || off+2 > len(font) {
			return 0, false
		}
		return int(binary.BigEndian.Uint16(font[off:])), true
	}
	u32 := func(off int) (int, bool) {
		if off < 0 || off+4 > len(font) {
			return 0, false
		}
		return int(binary.BigEndian.Uint32(font[off:])), true
	}
	numTables, ok := u16(4)
	if !ok {
		return nil, errors.New("truncated font")
	}
	cmap := -1
	for i := 0; i < numTables; i++ {
		rec := 12 + 16*i
		if rec+16 > len(font) {
			return nil, errors.New("truncated table directory")
		}
		if string(font[rec:rec+4]) == "cmap" {
			cmap, _ = u32(rec + 8)
		}
	}
	if cmap < 0 {
		return nil, errNoCmap
	}
	n, ok := u16(cmap + 2)
	if !ok {
		return nil, errNoCmap
	}
	sub := -1
	for i := 0; i < n; i++ {
		rec := cmap + 4 + 8*i
		platform, _ := u16(rec)
		encoding, _ := u16(rec + 2)
		off, ok := u32(rec + 4)
		if !ok {
			return nil, errNoCmap
		}
		if format, _ := u16(cmap + off); format == 4 && (platform == 3 && encoding == 1 || platform == 0) {
			sub = cmap + off
			break
		}
	}
	if sub < 0 {
		return nil, errNoCmap
	}
	segX2, ok := u16(sub + 6)
	if !ok || sub+16+4*segX2 > len(font) {
		return nil, errors.New("truncated character map")
	}
	ends, starts := sub+14, sub+16+segX2
	deltas, rangeOffs := starts+segX2, starts+2*segX2
	var set [0x10000 / 64]uint64
	for s := 0; s < segX2; s += 2 {
		end, _ := u16(ends + s)
		start, _ := u16(starts + s)
		delta, _ := u16(deltas + s)
		ro, _ := u16(rangeOffs + s)
		for c := start; c <= end && c < 0xFFFF; c++ {
			glyph := 0
			if ro == 0 {
				glyph = (c + delta) & 0xFFFF
			} else {
				g, ok := u16(rangeOffs + s + ro + 2*(c-start))
				if ok && g != 0 {
					glyph = (g + delta) & 0xFFFF
				}
			}
			if glyph != 0 {
				set[c/64] |= 1 << (uint(c) % 64)
			}
		}
	}
	return &set, nil
}
