package keyring

import (
	"bytes"
	"errors"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, MasterKeySize) }

func TestSealOpenRoundTrip(t *testing.T) {
	k, err := New(testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k.Seal([]byte("s3cret"), []byte("conn-1/secret"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("s3cret")) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := k.Open(sealed, []byte("conn-1/secret"))
	if err != nil || string(got) != "s3cret" {
		t.Fatalf("Open = %q, %v; want s3cret, nil", got, err)
	}
}

func TestOpenRefusesWrongKeyAADOrTamper(t *testing.T) {
	k1, _ := New(testKey(1))
	k2, _ := New(testKey(2))
	sealed, _ := k1.Seal([]byte("s3cret"), []byte("a"))
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	cases := []struct {
		name   string
		k      *Keyring
		sealed []byte
		aad    string
	}{
		{"other key", k2, sealed, "a"},
		{"other aad", k1, sealed, "b"},
		{"tampered", k1, tampered, "a"},
		{"truncated", k1, sealed[:5], "a"},
	}
	for _, c := range cases {
		if _, err := c.k.Open(c.sealed, []byte(c.aad)); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: Open err = %v, want ErrOpen", c.name, err)
		}
	}
}

func TestSubkeysDifferAndKIDIsStable(t *testing.T) {
	a, _ := New(testKey(1))
	b, _ := New(testKey(1))
	c, _ := New(testKey(2))
	kidA, keyA := a.TokenKey()
	kidB, _ := b.TokenKey()
	kidC, _ := c.TokenKey()
	if kidA != kidB || kidA == kidC {
		t.Fatalf("kid must depend on the master key only: %s %s %s", kidA, kidB, kidC)
	}
	if bytes.Equal(keyA, testKey(1)) {
		t.Fatal("token key must be derived, not the master key itself")
	}
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("New accepted a short master key")
	}
}
