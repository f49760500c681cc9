package playground

import (
	"bytes"
	"context"
	"testing"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/keyring"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

func TestDevConnectionSurvivesAChangedDevKey(t *testing.T) {
	dbURL := storetest.NewDatabase(t)
	cfg := &config.Config{Env: config.Development, AppURL: "http://localhost:18080", PlaygroundPort: 18081}
	first := storetest.Open(t, dbURL, store.Options{})
	if _, err := EnsureDevConnection(context.Background(), first, cfg); err != nil {
		t.Fatal(err)
	}
	// Another checkout: the same database, a different key.
	otherKeys, _ := keyring.New(bytes.Repeat([]byte{42}, keyring.MasterKeySize))
	second, err := store.Open(context.Background(), dbURL, otherKeys, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	c, err := EnsureDevConnection(context.Background(), second, cfg)
	if err != nil {
		t.Fatalf("a changed dev key stops the start: %v", err)
	}
	if got, err := second.ConnectionByID(context.Background(), c.ID); err != nil || !bytes.Equal(got.Secret, c.Secret) {
		t.Fatalf("the dev connection does not open with the new key: %v", err)
	}
}
