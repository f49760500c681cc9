package console

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// A connection's field mappings, as an admin keeps them: the standard ones
// preset, custom ones picked from the CRM's real fields and checked
// against them when saved (qwoty.CheckMapping), removed when no longer
// wanted.

// maxValueMap bounds the value map an admin types (lines).
const maxValueMap = 50

// mappingsView reads what the page shows: the mappings, and the CRM's
// fields for the form (read from the CRM each time: an admin page, rarely
// opened, that must show fields added a minute ago).
func (con *Console) mappingsView(c *gin.Context) (templates.MappingsView, *qwoty.Connection, error) {
	ctx := c.Request.Context()
	a := adapterOf(c)
	in := a.Info()
	v := templates.MappingsView{ConsolePage: con.page(c), CRMName: in.Name, Provider: in.Provider, Fields: map[string][]qwoty.CRMField{}}
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		return v, nil, err
	}
	// A connection made before mappings existed gets the standard ones now.
	if err := crmsync.PresetMappings(ctx, con.db, a, conn); err != nil {
		return v, nil, err
	}
	if v.Mappings, err = con.db.Mappings(ctx, conn.WorkspaceID, conn.ID); err != nil {
		return v, nil, err
	}
	for _, o := range templates.MappingObjects {
		fs, describes, err := crmsync.DescribeFields(ctx, con.db, a, conn, o.Key)
		v.Describes = describes
		if !describes {
			break
		}
		if err != nil {
			v.FieldsError = qwoty.AsError(err).Message
			break
		}
		v.Fields[o.Key] = fs
	}
	return v, conn, nil
}

func (con *Console) mappingsShow(c *gin.Context) {
	v, _, err := con.mappingsView(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.Mappings(v))
}

// editing finds mapping id among v's, for the edit form.
func editing(v *templates.MappingsView, id string) error {
	for i := range v.Mappings {
		if v.Mappings[i].ID == id {
			v.Editing = &v.Mappings[i]
			return nil
		}
	}
	return qwoty.Errorf(qwoty.CodeNotFound, "Pick a mapping from the list.", "this connection has no mapping %s", id)
}

// mappingEdit is the form of one mapping, filled with it.
func (con *Console) mappingEdit(c *gin.Context) {
	v, _, err := con.mappingsView(c)
	if err == nil {
		err = editing(&v, c.Param("id"))
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	v.Form = templates.FormOf(*v.Editing)
	web.Render(c, http.StatusOK, templates.Mappings(v))
}

// mappingAdd checks the form against the CRM's fields and saves it; a
// refusal shows the page again with the form as typed and the reason.
func (con *Console) mappingAdd(c *gin.Context) {
	v, conn, err := con.mappingsView(c)
	if err == nil && c.Param("id") != "" {
		err = editing(&v, c.Param("id"))
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	v.Form = templates.MappingForm{QwotyField: c.PostForm("qwoty_field"), CRMField: c.PostForm("crm_field"),
		Direction: c.PostForm("direction"), Policy: c.PostForm("policy"), ValueMap: c.PostForm("value_map")}
	m, err := readMapping(v.Form)
	if v.Editing != nil {
		m.ID, m.Standard = v.Editing.ID, v.Editing.Standard
		if m.Standard && m.QwotyField != v.Editing.QwotyField {
			err = &qwoty.Error{Code: qwoty.CodeValidation, Field: "qwoty_field", Message: "a standard mapping keeps its Qwoty value",
				Hint: "Add a custom mapping for another value."}
		}
	}
	if err == nil {
		if v.FieldsError != "" || !v.Describes {
			err = qwoty.Errorf(qwoty.CodeCRMUnavailable, "Try again in a minute.", "the CRM's fields could not be read to check the mapping")
		} else {
			err = qwoty.CheckMapping(m, v.Fields[m.Object])
		}
	}
	if err == nil {
		_, err = con.db.SaveMapping(c.Request.Context(), conn.WorkspaceID, conn.ID, m)
	}
	if err != nil {
		e := qwoty.AsError(err)
		if e.Code == qwoty.CodeInternal {
			con.fail(c, err)
			return
		}
		v.Error = formError(e)
		web.Render(c, qwoty.HTTPStatus(e.Code), templates.Mappings(v))
		return
	}
	c.Redirect(http.StatusSeeOther, "/settings/integrations/"+string(v.Provider)+"/mappings")
}

// readMapping reads the add form: the CRM field as "object:name", the
// value map as "qwoty value = CRM value" lines.
func readMapping(f templates.MappingForm) (qwoty.Mapping, error) {
	object, field, ok := strings.Cut(f.CRMField, ":")
	if !ok || field == "" {
		return qwoty.Mapping{}, &qwoty.Error{Code: qwoty.CodeValidation, Field: "crm_field", Message: "pick a field from the list",
			Hint: "The list shows the CRM's fields as they are now."}
	}
	m := qwoty.Mapping{QwotyField: f.QwotyField, Object: object, CRMField: field,
		Direction: qwoty.Direction(f.Direction), Policy: qwoty.Policy(f.Policy)}
	lines := strings.FieldsFunc(f.ValueMap, func(r rune) bool { return r == '\n' || r == '\r' })
	if len(lines) > maxValueMap {
		return m, &qwoty.Error{Code: qwoty.CodeValidation, Field: "value_map", Message: "a value map has at most 50 lines",
			Hint: "Map the values Qwoty uses; the others are left as they are."}
	}
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		k, val, ok := strings.Cut(l, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" || val == "" {
			return m, &qwoty.Error{Code: qwoty.CodeValidation, Field: "value_map", Message: "each line of the value map is \"Qwoty value = CRM value\"",
				Hint: "For example: accepted = Closed Won"}
		}
		if m.ValueMap == nil {
			m.ValueMap = map[string]string{}
		}
		m.ValueMap[k] = val
	}
	return m, nil
}

func (con *Console) mappingDelete(c *gin.Context) {
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	if err := con.db.DeleteMapping(c.Request.Context(), conn.WorkspaceID, conn.ID, c.Param("id")); err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/settings/integrations/"+string(in.Provider)+"/mappings")
}
