package org

import (
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/errs"
)

// ValidKey reports whether s can be a unit key: a lower-case slug of
// letters, digits and inner hyphens, 1 to 63 characters.
func ValidKey(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// countries holds the ISO 3166-1 alpha-2 codes.
var countries = func() map[string]bool {
	const list = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
		"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
		"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
		"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
		"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
		"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
		"UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
	m := map[string]bool{}
	for _, c := range strings.Fields(list) {
		m[c] = true
	}
	return m
}()

// NormaliseCountry upper-cases an ISO 3166-1 alpha-2 code and checks it.
func NormaliseCountry(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if c == "" {
		return "", nil
	}
	if !countries[c] {
		return "", errs.Field("country", "%q is not an ISO 3166-1 alpha-2 country code (like DE or GB)", s)
	}
	return c, nil
}

// NormaliseLanguages checks language tags ("de", "en", "de-AT").
func NormaliseLanguages(list []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, l := range list {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		lang, region, hasRegion := strings.Cut(l, "-")
		lang = strings.ToLower(lang)
		ok := len(lang) == 2 && isLetters(lang)
		tag := lang
		if hasRegion {
			region = strings.ToUpper(region)
			ok = ok && len(region) == 2 && isLetters(region)
			tag += "-" + region
		}
		if !ok {
			return nil, errs.Field("languages", "%q is not a language code (like de, en or de-AT)", l)
		}
		if !seen[tag] {
			seen[tag] = true
			out = append(out, tag)
		}
	}
	return out, nil
}

func isLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// ValidateTimeZone checks an IANA time zone name ("Europe/Berlin").
func ValidateTimeZone(tz string) error {
	if tz == "" {
		return nil
	}
	if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
		return errs.Field("time_zone", "%q is not an IANA time zone (like Europe/Berlin)", tz)
	}
	return nil
}

// validateUnitFields checks what a unit's own fields may hold and
// normalises them in place.
func validateUnitFields(u *Unit) error {
	u.Name = strings.TrimSpace(u.Name)
	if u.Name == "" {
		return errs.Field("name", "a unit needs a name")
	}
	if len(u.Name) > 200 {
		return errs.Field("name", "a unit's name has at most 200 characters")
	}
	if !u.Kind.Valid() {
		return errs.Field("kind", "%q is not a unit kind (one of %s)", u.Kind, kindList())
	}
	var err error
	if u.Country, err = NormaliseCountry(u.Country); err != nil {
		return err
	}
	if u.Languages, err = NormaliseLanguages(u.Languages); err != nil {
		return err
	}
	return ValidateTimeZone(u.TimeZone)
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// prepareChannel validates a channel's fields, recognises its platform
// account and fills in the canonical URL, handle, account key and name.
func prepareChannel(c *Channel, unitName string) error {
	p, ok := PlatformByKey(c.Platform)
	if !ok {
		return errs.Field("platform", "unknown platform %q (one of %s)", c.Platform, PlatformKeys())
	}
	c.Platform = p.Key
	if c.Status == "" {
		c.Status = StatusActive
	}
	if !c.Status.Valid() {
		return errs.Field("status", "%q is not a channel status (active, paused or retired)", c.Status)
	}
	given := strings.TrimSpace(c.GivenURL)
	acct, err := p.Recognise(given, c.Handle)
	if err != nil {
		return err
	}
	c.GivenURL, c.URL, c.Handle, c.AccountKey = given, acct.URL, acct.Handle, acct.Key
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		c.Name = unitName
	}
	if len(c.Name) > 200 {
		return errs.Field("name", "a channel's name has at most 200 characters")
	}
	if len(c.Notes) > 4000 {
		return errs.Field("notes", "notes have at most 4000 characters")
	}
	return nil
}
