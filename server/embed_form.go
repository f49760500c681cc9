package server

import (
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// The card's forms, parsed and validated here so handlers stay thin.

// formVersion reads the quote version a form was rendered with; 0 when
// absent (API callers that accept last-write-wins).
func formVersion(c *gin.Context) (int, error) {
	v := strings.TrimSpace(c.Request.FormValue("version"))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, qwoty.Errorf(qwoty.CodeValidation, "Reload the quote.", "version %q is not a positive number", v)
	}
	return n, nil
}

func formLine(c *gin.Context) (qwoty.LineItem, error) {
	return qwoty.ParseLine(qwoty.LineInput{
		SKU:             c.Request.FormValue("sku"),
		Description:     c.Request.FormValue("description"),
		Quantity:        c.Request.FormValue("quantity"),
		UnitPrice:       c.Request.FormValue("unit_price"),
		DiscountPercent: c.Request.FormValue("discount_percent"),
	})
}

func formTerms(c *gin.Context, q *qwoty.Quote) (store.Terms, error) {
	t := store.Terms{Currency: q.Currency}
	var err error
	if t.Title, err = qwoty.ParseTitle(c.Request.FormValue("title")); err != nil {
		return t, err
	}
	if cur := strings.ToUpper(strings.TrimSpace(c.Request.FormValue("currency"))); cur != "" {
		t.Currency = cur
	}
	if t.TaxRate, err = qwoty.ParsePercent("tax rate", c.Request.FormValue("tax_rate")); err != nil {
		return t, err
	}
	return t, nil
}
