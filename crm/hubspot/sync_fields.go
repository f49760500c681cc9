package hubspot

import (
	"strconv"
	"time"
)

// mappedProperties are the values of the admin's field mappings
// (crm.Deal.Fields) as a deal update writes them. They come formatted for
// the property's type; a date ("2026-11-29") is sent as HubSpot's timestamp
// FAQ asks: epoch milliseconds at midnight UTC, which date properties
// require ("a value that is not midnight UTC" is refused) and datetime
// properties take. "" is sent as is: it clears the property.
//
// The push does not know the properties' types, so a value is taken for a
// date by its form: exactly YYYY-MM-DD. A text property mapped to a value
// of that form (a quote titled "2026-11-29") would receive the
// milliseconds; the mappable text values (numbers, titles, names) are not
// dates in practice.
func mappedProperties(fields map[string]string) map[string]string {
	out := make(map[string]string, len(fields))
	for name, v := range fields {
		if len(v) == len(time.DateOnly) {
			if t, err := time.Parse(time.DateOnly, v); err == nil {
				v = strconv.FormatInt(t.UnixMilli(), 10)
			}
		}
		out[name] = v
	}
	return out
}
