package org

import (
	"encoding/csv"
	"strconv"
	"time"
)

// WriteChannelsCSV writes channels as CSV with a header row. Cells that a
// spreadsheet would run as a formula are prefixed with a quote.
func WriteChannelsCSV(w *csv.Writer, list []Channel) error {
	w.Write([]string{"id", "unit", "unit_name", "platform", "handle", "name", "url", "status", "followers", "notes", "updated_at"})
	for _, c := range list {
		followers := ""
		if c.Followers != nil {
			followers = strconv.FormatInt(*c.Followers, 10)
		}
		w.Write([]string{strconv.FormatInt(c.ID, 10), c.Unit, safeCell(c.UnitName), c.Platform, safeCell(c.Handle), safeCell(c.Name),
			safeCell(c.URL), string(c.Status), followers, safeCell(c.Notes), c.UpdatedAt.Format(time.RFC3339)})
	}
	w.Flush()
	return w.Error()
}

// safeCell defuses CSV formula injection (=, +, -, @ at the start).
func safeCell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
