package console

import (
	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
)

const ctxProvider = "qwoty.console.provider"

// provider reads the route's :provider, refusing a CRM this server does
// not know as the URL nothing answers (404).
func (con *Console) provider(c *gin.Context) {
	p, ok := qwoty.ParseProvider(c.Param("provider"))
	if !ok {
		con.fail(c, errNoCRM(c))
		return
	}
	c.Set(ctxProvider, p)
	c.Next()
}

func errNoCRM(c *gin.Context) error {
	return qwoty.Errorf(qwoty.CodeNotFound, "Settings → Integrations lists the CRMs this server connects.", "no route for %s %s", c.Request.Method, c.Request.URL.Path)
}

// providerOf is the CRM the route names (provider).
func providerOf(c *gin.Context) qwoty.Provider { return c.MustGet(ctxProvider).(qwoty.Provider) }

// install is the page that leads to connecting a CRM whose account needs
// something installed first.
func (con *Console) install(c *gin.Context) {
	if providerOf(c) != qwoty.ProviderSalesforce {
		con.fail(c, errNoCRM(c))
		return
	}
	con.salesforceInstall(c)
}

// connect starts connecting a CRM account.
func (con *Console) connect(c *gin.Context) {
	if p := providerOf(c); p != qwoty.ProviderSalesforce {
		con.crmConnect(c, p)
		return
	}
	con.salesforceConnect(c)
}

// callback finishes connecting a CRM account.
func (con *Console) callback(c *gin.Context) {
	if p := providerOf(c); p != qwoty.ProviderSalesforce {
		con.crmCallback(c, p)
		return
	}
	con.salesforceCallback(c)
}

// test runs Test connection.
func (con *Console) test(c *gin.Context) {
	if providerOf(c) != qwoty.ProviderSalesforce {
		con.fail(c, errNoCRM(c))
		return
	}
	con.salesforceTest(c)
}

// rotate gives the CRM account a new embed secret.
func (con *Console) rotate(c *gin.Context) {
	if providerOf(c) != qwoty.ProviderSalesforce {
		con.fail(c, errNoCRM(c))
		return
	}
	con.salesforceRotate(c)
}

// disconnect stops a connection at once and keeps its data.
func (con *Console) disconnect(c *gin.Context) {
	p := providerOf(c)
	if p == qwoty.ProviderSalesforce {
		con.salesforceDisconnect(c)
		return
	}
	conn, err := con.activeConnection(c, p)
	if err != nil {
		con.fail(c, err)
		return
	}
	if err := con.db.Disconnect(c.Request.Context(), conn.ID, sessionOf(c).User.Email); err != nil {
		con.fail(c, err)
		return
	}
	done(c, "disconnected", p)
}
