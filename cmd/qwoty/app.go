package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/keyring"
	"github.com/qwoty/companion/store"
)

// app is what every command that touches the database shares.
type app struct {
	cfg  *config.Config
	keys *keyring.Keyring
	db   *store.DB
}

// loadConfig reads the environment, printing the one-line problem on failure.
func loadConfig(stderr io.Writer) (*config.Config, bool) {
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintf(stderr, "qwoty: configuration: %v\n", err)
		return nil, false
	}
	return cfg, true
}

// open connects to the database (creating it when missing) and migrates it.
func open(ctx context.Context, cfg *config.Config) (*app, error) {
	keys, err := keyring.New(cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := store.Open(octx, cfg.DatabaseURL, keys, store.Options{})
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(octx); err != nil {
		db.Close()
		return nil, err
	}
	return &app{cfg: cfg, keys: keys, db: db}, nil
}

// cards is the card service for the CRMs of crms, signing its tokens with
// the keyring's token key.
func (a *app) cards(crms *crm.Registry) *cardview.Service {
	kid, key := a.keys.TokenKey()
	tokens := cardview.NewTokens(time.Now, cardview.Key{ID: kid, Secret: key})
	return cardview.NewService(a.db, crms, tokens, a.cfg.AppURL, time.Now)
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
