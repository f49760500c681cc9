package password

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Reasons Check gives, as errors a form can show (after capitalising).
var (
	ErrCommon   = errors.New("this password is one of the most commonly used (or a common word with digits or symbols added); choose another: a few unrelated words make a strong one")
	ErrRepeated = errors.New("this password repeats too few different characters")
	ErrSequence = errors.New("this password is a simple sequence or keyboard pattern (like abcd, 1234 or qwerty)")
	ErrEmail    = errors.New("this password contains the email address's name (the part before @)")
)

// Check says what is wrong with a new password for the account email, or
// nil: too short or too long, commonly used or breached (common.txt and its
// usual decorations), too few different characters, a sequence or keyboard
// walk, or containing the email's local part.
func Check(p, email string) error {
	n := utf8.RuneCountInString(p)
	switch {
	case n < MinLength:
		return fmt.Errorf("the password must have at least %d characters", MinLength)
	case n > MaxLength:
		return fmt.Errorf("the password must have at most %d characters", MaxLength)
	}
	s := normalize(p)
	switch {
	case distinct(s) <= 3:
		return ErrRepeated
	case isSequence(s) || repeatsWeakUnit(s):
		return ErrSequence
	case containsLocalPart(s, email):
		return ErrEmail
	case isCommon(s) || isCommon(reverse(s)):
		return ErrCommon
	}
	return nil
}

//go:embed common.txt
var commonText string

// common is common.txt as a set, read at first use.
var common = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 2048)
	for line := range strings.Lines(commonText) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[normalize(line)] = struct{}{}
		}
	}
	return m
})

// normalize lower-cases s and drops spaces and the separators people put
// between words (pass-word, pass.word, pass_word).
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || r == '_' || r == '.' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// isCommon reports whether s (normalized) is a listed root, or one
// decorated: digits and symbols before or after, leetspeak, or the root
// repeated. Checking the decorations is the same as listing every root
// with every year and digit run, without the list.
func isCommon(s string) bool {
	list := common()
	for _, v := range []string{s, unleet(s, 'i'), unleet(s, 'l')} {
		for _, core := range []string{v, trimDecoration(v, true, false), trimDecoration(v, false, true), trimDecoration(v, true, true)} {
			for _, c := range []string{core, unleet(core, 'i'), unleet(core, 'l'), unit(core)} {
				if _, ok := list[c]; ok && c != "" {
					return true
				}
			}
		}
	}
	return false
}

// trimDecoration removes digits and symbols at the start and/or the end.
func trimDecoration(s string, start, end bool) string {
	deco := func(r rune) bool { return !unicode.IsLetter(r) }
	if start {
		s = strings.TrimLeftFunc(s, deco)
	}
	if end {
		s = strings.TrimRightFunc(s, deco)
	}
	return s
}

// unleet undoes the usual letter substitutions; one is read as i or l.
func unleet(s string, one rune) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '0':
			return 'o'
		case '1':
			return one
		case '!', '|':
			return 'i'
		case '3':
			return 'e'
		case '4', '@':
			return 'a'
		case '5', '$':
			return 's'
		case '7', '+':
			return 't'
		case '8':
			return 'b'
		}
		return r
	}, s)
}

// unit returns u when s is u repeated two or more times, else "".
func unit(s string) string {
	for k := 2; k <= len(s); k++ {
		if len(s)%k == 0 && strings.Repeat(s[:len(s)/k], k) == s {
			return s[:len(s)/k]
		}
	}
	return ""
}

func distinct(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// repeatsWeakUnit reports a short unit repeated (abcdabcdabcd) or a unit
// that is itself a sequence.
func repeatsWeakUnit(s string) bool {
	u := unit(s)
	if u == "" {
		return false
	}
	return utf8.RuneCountInString(u) <= 4 || isSequence(u) || distinct(u) <= 3
}

// isSequence reports whether nearly every step from one character to the
// next is easy to type or guess: the same character, the next or previous
// letter or digit, or a neighbouring key. A few breaks are allowed
// (abcdefgh1234 has one); English words have many.
func isSequence(s string) bool {
	rs := []rune(s)
	if len(rs) < 2 {
		return true
	}
	breaks := 0
	for i := 1; i < len(rs); i++ {
		if !easyStep(rs[i-1], rs[i]) {
			breaks++
		}
	}
	return breaks <= (len(rs)-1)/6
}

func easyStep(a, b rune) bool {
	if a == b {
		return true
	}
	if d := a - b; (d == 1 || d == -1) && (isAlnum(a) && isAlnum(b)) && unicode.IsDigit(a) == unicode.IsDigit(b) {
		return true
	}
	if (a == '9' && b == '0') || (a == '0' && b == '9') || (a == '0' && b == '1') || (a == '1' && b == '0') {
		return true // 1234567890 wraps
	}
	return keysAdjacent(a, b)
}

func isAlnum(r rune) bool { return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) }

// keyboard is a US layout; each row sits half a key right of the one above.
var keyboard = [...]string{"1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./"}

// keyPos maps a key to its row and doubled column (half keys become whole).
var keyPos = func() map[rune][2]int {
	m := map[rune][2]int{}
	for row, keys := range keyboard {
		for col, r := range keys {
			m[r] = [2]int{row, 2*col + row}
		}
	}
	// The shifted digits sit on their digits' keys.
	for i, r := range "!@#$%^&*()" {
		m[r] = m[rune(keyboard[0][i])]
	}
	return m
}()

func keysAdjacent(a, b rune) bool {
	pa, oka := keyPos[a]
	pb, okb := keyPos[b]
	if !oka || !okb {
		return false
	}
	dr, dc := pa[0]-pb[0], pa[1]-pb[1]
	switch dr {
	case 0:
		return dc == 2 || dc == -2
	case 1, -1:
		return dc == 1 || dc == -1
	}
	return false
}

// containsLocalPart reports whether s holds the email's local part, whole
// (separators dropped) or any of its words of four letters or more.
func containsLocalPart(s, email string) bool {
	local, _, ok := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	if !ok {
		return false
	}
	if whole := normalize(local); utf8.RuneCountInString(whole) >= 3 && strings.Contains(s, whole) {
		return true
	}
	for _, w := range strings.FieldsFunc(local, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if utf8.RuneCountInString(w) >= 4 && strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return string(rs)
}
