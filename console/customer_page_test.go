package console

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web/webtest"
)

// upload posts a logo file as the settings page's form does.
func upload(t *testing.T, b *webtest.Browser, u, csrf string, data []byte) *webtest.Browser {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf", csrf)
	f, _ := w.CreateFormFile("logo", "logo.png")
	_, _ = f.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, u, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.Do(req)
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{59, 91, uint8(x + y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// An admin uploads the workspace's logo: a PNG or JPEG of at most 256 KB
// is kept; anything else is refused with logo_invalid, and an upload
// without the form's token is refused.
func TestCustomerPageLogo(t *testing.T) {
	a := newApp(t, "")
	b := a.setupAdmin(t)
	page := a.url() + "/settings/customer-page"
	b.Get(page).Want(200, "", "No logo yet")
	csrf := b.CSRF()

	var gifBuf bytes.Buffer
	_ = gif.Encode(&gifBuf, image.NewPaletted(image.Rect(0, 0, 4, 4), []color.Color{color.Black, color.White}), nil)
	big := append(pngOf(t, 4, 4), make([]byte, 260<<10)...)
	for name, data := range map[string][]byte{"gif": gifBuf.Bytes(), "text": []byte("not an image"), "too large": big,
		"png header only": pngOf(t, 4, 4)[:40]} {
		upload(t, b, page, csrf, data)
		if b.Last.StatusCode != http.StatusUnprocessableEntity || !bytes.Contains(b.Body, []byte(string(qwoty.CodeLogoInvalid))) {
			t.Fatalf("%s: %d %s", name, b.Last.StatusCode, b.Body)
		}
	}
	// Without the form's token: refused.
	upload(t, b, page, "wrong", pngOf(t, 40, 10))
	if b.Last.StatusCode != http.StatusForbidden {
		t.Fatalf("upload without CSRF: %d", b.Last.StatusCode)
	}
	logo := pngOf(t, 40, 10)
	upload(t, b, page, csrf, logo).Want(200, "", "The logo is saved", `id="logo-preview"`)
	var ws string
	if err := storetest.Pool(t, a.db).QueryRow(context.Background(), `SELECT id FROM workspaces WHERE name = 'Acme'`).Scan(&ws); err != nil {
		t.Fatal(err)
	}
	data, ct, err := a.db.WorkspaceLogo(context.Background(), ws)
	if err != nil || ct != "image/png" || !bytes.Equal(data, logo) {
		t.Fatalf("stored logo: %s %d bytes %v", ct, len(data), err)
	}
	b.Get(page + "/logo")
	if b.Last.StatusCode != 200 || !bytes.Equal(b.Body, logo) {
		t.Fatalf("preview: %d", b.Last.StatusCode)
	}
	b.Get(page)
	b.Post(page+"/remove", map[string][]string{"csrf": {b.CSRF()}}).Want(200, "", "The logo is removed", "No logo yet")
}
