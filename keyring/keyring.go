// Package keyring derives the server's working keys from the one master key
// (QWOTY_SECRET_KEY) and seals secrets at rest with AES-256-GCM.
//
// Each purpose gets its own subkey through HKDF-SHA256, so the key that
// encrypts OAuth tokens never signs an embed token and vice versa.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// MasterKeySize is the length of QWOTY_SECRET_KEY once base64-decoded.
const MasterKeySize = 32

// Keyring holds the subkeys derived from one master key.
type Keyring struct {
	aead     cipher.AEAD
	tokenKey []byte
	tokenKID string
}

// New derives the subkeys from a 32-byte master key.
func New(master []byte) (*Keyring, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("keyring: master key is %d bytes, want %d", len(master), MasterKeySize)
	}
	encKey, err := hkdf.Key(sha256.New, master, nil, "qwoty at-rest encryption v1", 32)
	if err != nil {
		return nil, fmt.Errorf("keyring: derive encryption key: %w", err)
	}
	tokenKey, err := hkdf.Key(sha256.New, master, nil, "qwoty embed token signing v1", 32)
	if err != nil {
		return nil, fmt.Errorf("keyring: derive token key: %w", err)
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("keyring: aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keyring: gcm: %w", err)
	}
	// The kid names the key without revealing it: a hash of the subkey.
	sum := sha256.Sum256(tokenKey)
	return &Keyring{aead: aead, tokenKey: tokenKey, tokenKID: hex.EncodeToString(sum[:6])}, nil
}

// TokenKey returns the HS256 key for embed and page tokens and its key id.
func (k *Keyring) TokenKey() (kid string, key []byte) { return k.tokenKID, k.tokenKey }

// Seal encrypts plaintext; aad binds the ciphertext to its row and column so
// a sealed value copied elsewhere does not open. Output is nonce || ciphertext.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keyring: nonce: %w", err)
	}
	return k.aead.Seal(nonce, nonce, plaintext, aad), nil
}

// ErrOpen is returned when a sealed value does not decrypt: wrong key, wrong
// row, or tampering.
var ErrOpen = errors.New("keyring: sealed value does not open with this key")

// Open decrypts a value produced by Seal with the same aad.
func (k *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < ns+k.aead.Overhead() {
		return nil, ErrOpen
	}
	out, err := k.aead.Open(nil, sealed[:ns], sealed[ns:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}
