package org

import (
	"strconv"
	"time"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func validDay(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}
