package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/templates"
)

// home is the landing page; in development it leads to the playground.
func (s *Server) home(c *gin.Context) {
	v := templates.HomeView{Dev: s.cfg.Dev(), Version: s.version}
	if s.cfg.Dev() && s.cfg.PlaygroundPort > 0 {
		v.PlaygroundURL = PlaygroundOrigin(s.cfg)
	}
	render(c, http.StatusOK, templates.Home(v))
}
