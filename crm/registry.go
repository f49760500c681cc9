package crm

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/qwoty/companion/qwoty"
)

// Registry holds the adapters this server serves, in the order the console
// lists them. It is built once at start-up and read-only afterwards.
type Registry struct {
	adapters  []Adapter
	providers []qwoty.Provider // adapters[i]'s, read once: Get is on the card path
}

// providerName is the form of a provider's name: it is a URL segment
// (/embed/{provider}/card) and a stored column value.
var providerName = regexp.MustCompile(`^[a-z][a-z0-9]{1,30}$`)

// NewRegistry registers adapters; a provider registered twice or with a
// name that cannot be a URL segment is a programming error.
func NewRegistry(adapters ...Adapter) (*Registry, error) {
	r := &Registry{}
	for _, a := range adapters {
		p := a.Info().Provider
		if !providerName.MatchString(string(p)) {
			return nil, fmt.Errorf("crm: provider name %q is not lower-case letters and digits", p)
		}
		if _, ok := r.Get(p); ok {
			return nil, fmt.Errorf("crm: provider %q registered twice", p)
		}
		r.adapters, r.providers = append(r.adapters, a), append(r.providers, p)
	}
	return r, nil
}

// MustRegistry is NewRegistry for tests and fixed lists.
func MustRegistry(adapters ...Adapter) *Registry {
	r, err := NewRegistry(adapters...)
	if err != nil {
		panic(err)
	}
	return r
}

// Get returns the adapter of p.
func (r *Registry) Get(p qwoty.Provider) (Adapter, bool) {
	if r == nil {
		return nil, false
	}
	for i, q := range r.providers {
		if q == p {
			return r.adapters[i], true
		}
	}
	return nil, false
}

// Lookup returns the adapter named by s (a URL segment or a stored value).
func (r *Registry) Lookup(s string) (Adapter, bool) { return r.Get(qwoty.Provider(s)) }

// All returns the adapters in registration order.
func (r *Registry) All() []Adapter {
	if r == nil {
		return nil
	}
	return slices.Clone(r.adapters)
}
