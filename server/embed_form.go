package server

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
)

// The card's forms, parsed and validated here so handlers stay thin (the
// body was read and checked by web.FormInput).

func formLine(c *gin.Context) (qwoty.LineItem, error) {
	return qwoty.ParseLine(qwoty.LineInput{
		SKU:             c.Request.FormValue("sku"),
		Description:     c.Request.FormValue("description"),
		Quantity:        c.Request.FormValue("quantity"),
		UnitPrice:       c.Request.FormValue("unit_price"),
		DiscountPercent: c.Request.FormValue("discount_percent"),
		ProductID:       c.Request.FormValue("product_id"),
		TaxRate:         c.Request.FormValue("tax_rate"),
	})
}

// formTerms reads a terms form; a currency left out is empty, which keeps
// the quote's (qwoty.Terms).
func formTerms(c *gin.Context) (qwoty.Terms, error) {
	var t qwoty.Terms
	var err error
	if t.Title, err = qwoty.ParseTitle(c.Request.FormValue("title")); err != nil {
		return t, err
	}
	if cur := c.Request.FormValue("currency"); strings.TrimSpace(cur) != "" {
		if t.Currency, err = qwoty.ParseCurrency(cur); err != nil {
			return t, err
		}
	}
	if t.TaxRate, err = qwoty.ParsePercent("tax_rate", c.Request.FormValue("tax_rate")); err != nil {
		return t, err
	}
	// The tax mode and the quote discount: left out, the quote keeps its
	// own (a form of an older card).
	if mode := c.Request.FormValue("tax_mode"); mode != "" {
		if t.TaxMode, err = qwoty.ParseTaxMode(mode); err != nil {
			return t, err
		}
	}
	if kind := c.Request.FormValue("discount_kind"); kind != "" {
		d, err := qwoty.ParseDiscount(kind, c.Request.FormValue("discount_value"))
		if err != nil {
			return t, err
		}
		t.Discount = &d
	}
	return t, nil
}
