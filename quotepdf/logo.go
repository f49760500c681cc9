package quotepdf

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
)

// The limits of a logo. A logo past them is left out of the document; the
// place that takes a logo from a user checks it with CheckLogo first.
const (
	// MaxLogoBytes is the largest logo file, in bytes.
	MaxLogoBytes = 1 << 20
	// MaxLogoSide is the most pixels a logo has on either side.
	MaxLogoSide = 2048
)

// Errors CheckLogo returns (wrapped with what was found).
var (
	ErrLogoTooLarge = errors.New("logo too large")
	ErrLogoFormat   = errors.New("logo is not a PNG or JPEG image")
)

// CheckLogo reports whether b is a logo the document can show: a PNG or a
// JPEG of at most MaxLogoBytes bytes and MaxLogoSide pixels a side that
// decodes whole.
func CheckLogo(b []byte) error {
	_, _, _, err := readLogo(b)
	return err
}

// readLogo checks a logo and returns what the document embeds: a JPEG as
// it is, a PNG decoded and encoded again as 8 bits a channel without
// interlacing (the PNGs fpdf reads whole, whatever the original's depth,
// palette or interlacing), with fpdf's name of its kind and its size.
func readLogo(b []byte) (data []byte, kind string, size image.Point, err error) {
	kind, cfg, err := logoHeader(b)
	if err != nil {
		return nil, "", size, err
	}
	size = image.Pt(cfg.Width, cfg.Height)
	if kind == "JPG" {
		if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
			return nil, "", size, fmt.Errorf("%w: %v", ErrLogoFormat, err)
		}
		return b, kind, size, nil
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, "", size, fmt.Errorf("%w: %v", ErrLogoFormat, err)
	}
	rgba := image.NewNRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	var out bytes.Buffer
	if err := png.Encode(&out, rgba); err != nil {
		return nil, "", size, fmt.Errorf("quotepdf: encoding the logo: %w", err)
	}
	return out.Bytes(), kind, size, nil
}

// logoHeader checks the size limits and reads the image's kind (as fpdf
// names it) and dimensions without decoding its pixels.
func logoHeader(b []byte) (kind string, cfg image.Config, err error) {
	if len(b) > MaxLogoBytes {
		return "", cfg, fmt.Errorf("%w: %d bytes, at most %d", ErrLogoTooLarge, len(b), MaxLogoBytes)
	}
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		kind = "PNG"
		cfg, err = png.DecodeConfig(bytes.NewReader(b))
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		kind = "JPG"
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(b))
	default:
		return "", cfg, ErrLogoFormat
	}
	if err != nil {
		return "", cfg, fmt.Errorf("%w: %v", ErrLogoFormat, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxLogoSide || cfg.Height > MaxLogoSide {
		return "", cfg, fmt.Errorf("%w: %d×%d pixels, at most %d a side", ErrLogoTooLarge, cfg.Width, cfg.Height, MaxLogoSide)
	}
	return kind, cfg, nil
}
