package console

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/quotepdf"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// The "Customer page" settings: the workspace's logo, shown on the
// customer's page of a quote and in its PDF (docs/customer-page.md).

// maxLogoUpload caps the logo upload's body: the logo and the form's
// other fields.
const maxLogoUpload = store.MaxLogoBytes + 16<<10

func (con *Console) customerPageShow(c *gin.Context) {
	con.renderCustomerPage(c, http.StatusOK, "")
}

func (con *Console) renderCustomerPage(c *gin.Context, status int, notice string) {
	data, _, err := con.db.WorkspaceLogo(c.Request.Context(), sessionOf(c).User.WorkspaceID)
	if err != nil {
		con.fail(c, err)
		return
	}
	p := con.page(c)
	if notice != "" {
		p.Notice = notice
	}
	web.Render(c, status, templates.CustomerSettings(templates.CustomerSettingsView{ConsolePage: p, HasLogo: data != nil,
		MaxKB: store.MaxLogoBytes >> 10}))
}

// logoInput reads the upload's multipart body, capped, before the CSRF
// check reads its token: the console's other forms are capped at 64 KiB
// (web.FormInput), a logo is up to 256 KB.
func (con *Console) logoInput(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxLogoUpload)
	if err := c.Request.ParseMultipartForm(maxLogoUpload); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			con.fail(c, errLogo("The logo is larger than 256 KB."))
		} else {
			con.fail(c, qwoty.Errorf(qwoty.CodeBadRequest, "Choose the logo's file and upload it from this page.", "the upload could not be read"))
		}
		c.Abort()
		return
	}
	c.Next()
}

func errLogo(msg string) error {
	return qwoty.Errorf(qwoty.CodeLogoInvalid, "Upload a PNG or JPEG of 256 KB or less (2048 pixels a side at most).", "%s", msg)
}

// customerLogoSave stores the uploaded logo: a PNG or JPEG (by its
// content, whatever its name says) of at most 256 KB.
func (con *Console) customerLogoSave(c *gin.Context) {
	f, _, err := c.Request.FormFile("logo")
	if err != nil {
		con.fail(c, errLogo("Choose a logo file to upload."))
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, store.MaxLogoBytes+1))
	if err != nil {
		con.fail(c, err)
		return
	}
	if len(data) == 0 {
		con.fail(c, errLogo("The logo file is empty."))
		return
	}
	if len(data) > store.MaxLogoBytes {
		con.fail(c, errLogo("The logo is larger than 256 KB."))
		return
	}
	ct := http.DetectContentType(data)
	if ct != "image/png" && ct != "image/jpeg" {
		con.fail(c, errLogo("The logo is not a PNG or JPEG image."))
		return
	}
	if err := quotepdf.CheckLogo(data); err != nil {
		con.fail(c, errLogo("The logo is not a readable PNG or JPEG of at most 2048 pixels a side."))
		return
	}
	sess := sessionOf(c)
	if err := con.db.SetWorkspaceLogo(c.Request.Context(), sess.User.WorkspaceID, ct, data, sess.User.Email); err != nil {
		con.fail(c, err)
		return
	}
	con.renderCustomerPage(c, http.StatusOK, "The logo is saved: customers see it on their quotes' pages and PDFs.")
}

// customerLogoRemove removes the workspace's logo.
func (con *Console) customerLogoRemove(c *gin.Context) {
	sess := sessionOf(c)
	if err := con.db.SetWorkspaceLogo(c.Request.Context(), sess.User.WorkspaceID, "", nil, sess.User.Email); err != nil {
		con.fail(c, err)
		return
	}
	con.renderCustomerPage(c, http.StatusOK, "The logo is removed.")
}

// customerLogoShow is the current logo, for the settings page's preview.
func (con *Console) customerLogoShow(c *gin.Context) {
	data, ct, err := con.db.WorkspaceLogo(c.Request.Context(), sessionOf(c).User.WorkspaceID)
	if err != nil {
		con.fail(c, err)
		return
	}
	if data == nil {
		con.fail(c, qwoty.Errorf(qwoty.CodeNotFound, "Upload a logo first.", "this workspace has no logo"))
		return
	}
	c.Header("Cache-Control", "private, no-store")
	c.Data(http.StatusOK, ct, data)
}
