package linkedin

import (
	"context"
	"strconv"
	"strings"

	"github.com/vernetzen/vernetzen/internal/connector"
)

var _ connector.Profiler = (*Connector)(nil)

// Profile finds, after a sign-in, the organisation page the channel is:
// among the organisations the member administers (organizationAcls,
// roleAssignee finder), the one whose vanity name is the channel's handle
// ("linkedin.com/company/bmw-group" → "bmw-group"), or the only one. It
// fills acct.ExternalID with the organisation's id, which publishing and
// polling need.
func (c *Connector) Profile(ctx context.Context, acct *connector.Account) (connector.Profile, error) {
	b := apiBase(acct)
	var acls struct {
		Elements []struct {
			Organization string `json:"organization"`
		} `json:"elements"`
	}
	if _, err := c.get(ctx, acct, "profile", b+"/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED", &acls); err != nil {
		return connector.Profile{}, err
	}
	type org struct {
		ID            int64  `json:"id"`
		VanityName    string `json:"vanityName"`
		LocalizedName string `json:"localizedName"`
	}
	var orgs []org
	for _, e := range acls.Elements {
		id := strings.TrimPrefix(e.Organization, "urn:li:organization:")
		if id == e.Organization || id == "" {
			continue
		}
		var o org
		if _, err := c.get(ctx, acct, "profile", b+"/rest/organizations/"+id, &o); err != nil {
			return connector.Profile{}, err
		}
		orgs = append(orgs, o)
	}
	want := strings.ToLower(strings.TrimSpace(acct.Handle))
	var pick *org
	for i, o := range orgs {
		if want != "" && strings.EqualFold(o.VanityName, want) {
			pick = &orgs[i]
			break
		}
	}
	if pick == nil && len(orgs) == 1 {
		pick = &orgs[0]
	}
	if pick == nil {
		msg := "the signed-in member administers no LinkedIn page"
		if len(orgs) > 0 {
			msg = "the signed-in member administers no LinkedIn page named " + acct.Handle
		}
		return connector.Profile{}, connector.Errorf(connector.KindPermanent, Platform, "profile", "%s", msg)
	}
	id := strconv.FormatInt(pick.ID, 10)
	acct.ExternalID = id
	return connector.Profile{ExternalID: id, Handle: pick.VanityName, DisplayName: pick.LocalizedName,
		URL: "https://www.linkedin.com/company/" + pick.VanityName}, nil
}
