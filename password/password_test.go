package password

import (
	"errors"
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "horse") {
		t.Fatalf("hash = %q", h)
	}
	if err := Verify(h, "correct horse battery staple"); err != nil {
		t.Fatalf("the right password was refused: %v", err)
	}
	if err := Verify(h, "correct horse battery stapler"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("a wrong password: %v", err)
	}
	h2, _ := Hash("correct horse battery staple")
	if h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, bad := range []string{"", "$bcrypt$x", "$argon2id$v=19$m=1,t=1,p=1$!!$!!"} {
		if err := Verify(bad, "x"); err == nil {
			t.Errorf("Verify accepted hash %q", bad)
		}
	}
}

func TestCheck(t *testing.T) {
	if Check("short") == nil || Check(strings.Repeat("a", 300)) == nil {
		t.Fatal("Check accepted a password out of bounds")
	}
	if err := Check("twelve chars"); err != nil {
		t.Fatalf("a 12-character password: %v", err)
	}
}
