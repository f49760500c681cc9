package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/console"
	"github.com/qwoty/companion/playground"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// home is the landing page: the way into the console, and in development
// the playground and, while no admin exists, the first-run page.
func (s *Server) home(c *gin.Context) {
	v := templates.HomeView{Dev: s.cfg.Dev(), Version: s.version}
	if s.cfg.Dev() && s.cfg.PlaygroundPort > 0 {
		v.PlaygroundURL = playground.Origin(s.cfg)
	}
	if s.cfg.Dev() {
		n, err := s.db.CountUsers(c.Request.Context())
		if err != nil {
			s.fail(c, err)
			return
		}
		if n == 0 {
			v.SetupURL = console.SetupPath
		}
	}
	web.Render(c, http.StatusOK, templates.Home(v))
}
