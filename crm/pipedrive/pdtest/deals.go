package pdtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Deals through API v2 (developers.pipedrive.com/docs/api/v1/Deals, the v2
// endpoints): GET /api/v2/deals/{id} and PATCH /api/v2/deals/{id}, whose
// body may carry value, currency, stage_id and status among the deal's
// fields (DealRequestBody), and custom_fields, checked against the
// company's deal fields (fields.go). A stage_id moves the deal into that stage's
// pipeline. Unknown fields are ignored (assumed).
//
// A deal's value and its products: a deal product "contributes to the total
// value of the deal", and a disabled one is kept out of "the deal value
// calculation" (DealProducts reference). So when a deal's products change,
// its value becomes the sum of its enabled products. Whether an update of
// the value is then accepted is not documented: by default it is (the last
// write wins); Options.LockValueWithProducts ignores it while the deal has
// products, the answer showing the value kept.

// deal is GET /api/v2/deals/{id}: ids are the v2 way (org_id a number, or
// null), the value a number.
func (s *Server) deal(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "deals:read", "deals:full") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.findDeal(u, r.PathValue("id"))
	if !ok {
		apiError(w, http.StatusNotFound, "Deal not found")
		return
	}
	success(w, s.dealJSON(u, d))
}

// updateDeal is PATCH /api/v2/deals/{id}.
func (s *Server) updateDeal(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "deals:full") {
		return
	}
	obj, ok := object(w, r)
	if !ok {
		return
	}
	c := &checker{path: "body"}
	value, hasValue := c.number(obj, "value", false)
	currency, hasCurrency := c.text(obj, "currency", false)
	stage, hasStage := c.integer(obj, "stage_id", false)
	status, hasStatus := c.oneOf(obj, "status", "open", "won", "lost")
	if c.refused(w) {
		return
	}
	customRaw, hasCustom := obj["custom_fields"]
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.findDeal(u, r.PathValue("id"))
	if !ok {
		apiError(w, http.StatusNotFound, "Deal not found")
		return
	}
	comp := u.company
	var custom map[string]json.RawMessage
	if hasCustom {
		var msg string
		if custom, msg = comp.checkCustom(customRaw); msg != "" {
			apiError(w, http.StatusBadRequest, msg)
			return
		}
	}
	if hasStage {
		if _, ok := comp.stages[stage]; !ok {
			// Assumed wording: the reference names no message.
			apiError(w, http.StatusBadRequest, "Stage not found")
			return
		}
		d.StageID = stage
	}
	if hasCurrency {
		if len(currency) != 3 {
			apiError(w, http.StatusBadRequest, "body/currency must NOT have more than 3 characters")
			return
		}
		d.Currency = currency
	}
	if hasValue && !(s.opts.LockValueWithProducts && len(comp.dealProducts[d.ID]) > 0) {
		d.Value = value.String()
	}
	if hasStatus {
		d.Status = status
	}
	for code, v := range custom {
		if comp.custom[d.ID] == nil {
			comp.custom[d.ID] = map[string]json.RawMessage{}
		}
		if v == nil {
			delete(comp.custom[d.ID], code)
		} else {
			comp.custom[d.ID][code] = v
		}
	}
	d.Updated = s.Now().UTC().Truncate(time.Second)
	comp.deals[d.ID] = d
	success(w, s.dealJSON(u, d))
}

// findDeal reads a deal id of the path among u's company's deals: another
// company's deal is as unknown as no deal. s.mu is held.
func (s *Server) findDeal(u *user, raw string) (Deal, bool) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return Deal{}, false
	}
	d, ok := u.company.deals[id]
	return d, ok
}

// dealJSON is a deal as v2 shows it. s.mu is held.
func (s *Server) dealJSON(u *user, d Deal) map[string]any {
	value := json.Number("0")
	if d.Value != "" {
		value = json.Number(d.Value)
	}
	status := d.Status
	if status == "" {
		status = "open"
	}
	var org, person, closeDate any
	if d.OrgID != 0 {
		org = d.OrgID
	}
	if d.PersonID != 0 {
		person = d.PersonID
	}
	if d.CloseDate != "" {
		closeDate = d.CloseDate
	}
	return map[string]any{
		"id":                  d.ID,
		"title":               d.Title,
		"creator_user_id":     u.ID,
		"owner_id":            u.ID,
		"value":               value,
		"person_id":           person,
		"org_id":              org,
		"stage_id":            d.StageID,
		"pipeline_id":         u.company.stages[d.StageID],
		"currency":            d.Currency,
		"add_time":            created.Format(time.RFC3339),
		"update_time":         stamp(d.Updated),
		"expected_close_date": closeDate,
		"status":              status,
		"is_deleted":          status == "deleted",
		"probability":         nil,
		"visible_to":          3,
		"custom_fields":       u.company.customJSON(d.ID),
	}
}
