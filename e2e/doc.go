// Package e2e holds the browser tests: the card view in headless Chromium,
// framed by a host page on another origin, clicked like a rep would. They
// build only with -tags browser (make test-browser), which installs Chromium.
package e2e
