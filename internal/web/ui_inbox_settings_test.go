package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/inbox"
)

// TestUISLASettings: the SLA page shows what applies, saves a unit's own
// targets, hours and time zone, refuses bad input beside its field with
// nothing changed, and answers 404 for units outside the caller's.
func TestUISLASettings(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	e.user("de@example.com", "bmw-de", access.RoleManager)
	e.user("uk@example.com", "bmw-uk", access.RoleManager)
	b := e.browser()
	b.login("de@example.com")

	st, body := b.get("/inbox/settings/sla?unit=bmw-de")
	if st != 200 || !strings.Contains(body, "60 min") || !strings.Contains(body, `id="sla-form"`) || !strings.Contains(body, "Europe/Berlin") {
		t.Fatalf("SLA page: %d\n%s", st, body)
	}
	sla := func() inbox.SLAView {
		var v inbox.SLAView
		if st := e.do(adm, "GET", "/api/v1/inbox/sla?unit=bmw-de", nil, &v); st != 200 {
			t.Fatalf("SLA API: %d", st)
		}
		return v
	}
	good := url.Values{"unit": {"bmw-de"}, "target-sales": {"30"}, "target-default": {"120"}, "day-mon": {"on"}, "day-fri": {"on"},
		"start": {"09:00"}, "end": {"17:30"}, "time_zone": {"Europe/Lisbon"}}
	bad := []struct {
		change  url.Values
		fieldID string
		says    string
	}{
		{url.Values{"target-sales": {"half an hour"}}, "sla-target-sales", "whole number of minutes"},
		{url.Values{"target-care": {"-5"}}, "sla-target-care", "1 to 43200"},
		{url.Values{"target-default": {"99999"}}, "sla-target-default", "1 to 43200"},
		{url.Values{"time_zone": {"Mars/Olympus"}}, "sla-time_zone", "IANA time zone"},
		{url.Values{"end": {"08:00"}}, "sla-end", "after the start"},
		{url.Values{"start": {"9 Uhr"}}, "sla-start", "a time like 09:00"},
	}
	for _, c := range bad {
		form := url.Values{}
		for k, v := range good {
			form[k] = v
		}
		for k, v := range c.change {
			form[k] = v
		}
		st, _, body := b.post("/inbox/settings/sla", form)
		if msg := fieldError(body, c.fieldID); st != 400 || !strings.Contains(msg, c.says) {
			t.Errorf("%v: %d, error beside %s: %q\n%s", c.change, st, c.fieldID, msg, body)
		}
		if v := sla(); len(v.Own) != 0 || v.OwnTimeZone != "" || v.OwnBusinessHours != nil {
			t.Fatalf("%v changed the SLA: %+v", c.change, v)
		}
	}
	if st, loc, body := b.post("/inbox/settings/sla", good); st != http.StatusSeeOther || loc != "/inbox/settings/sla?unit=bmw-de" {
		t.Fatalf("save: %d %s\n%s", st, loc, body)
	}
	v := sla()
	if v.Own["sales"] != 30 || v.Own[""] != 120 || v.Targets["care"] != 120 || v.TimeZone != "Europe/Lisbon" || v.OwnBusinessHours == nil ||
		!slices.Equal(v.OwnBusinessHours.Days, []string{"mon", "fri"}) || v.OwnBusinessHours.End != "17:30" {
		t.Fatalf("saved SLA: %+v %+v", v, v.OwnBusinessHours)
	}
	if _, body := b.get("/inbox/settings/sla?unit=bmw-de"); !strings.Contains(body, "Saved the SLAs") || !strings.Contains(body, `value="Europe/Lisbon"`) {
		t.Fatalf("after saving:\n%s", body)
	}

	// Another market's manager: the unit does not exist for them.
	uk := e.browser()
	uk.login("uk@example.com")
	if st, _ := uk.get("/inbox/settings/sla?unit=bmw-de"); st != 404 {
		t.Fatalf("foreign SLA page: %d", st)
	}
	if st, _, _ := uk.post("/inbox/settings/sla", url.Values{"unit": {"bmw-de"}, "target-sales": {"5"}}); st != 404 {
		t.Fatalf("foreign SLA save: %d", st)
	}
	if st, body := uk.get("/inbox/settings/sla"); st != 200 || strings.Contains(body, `value="bmw-de"`) {
		t.Fatalf("UK manager's unit choice: %d", st)
	}
	if v := sla(); v.Own["sales"] != 30 {
		t.Fatalf("foreign save changed the SLA: %+v", v)
	}
	// No CSRF token: refused.
	if st, _, _ := uk.do("POST", "/inbox/settings/sla", url.Values{"unit": {"bmw-uk"}}); st != 403 {
		t.Fatalf("without CSRF: %d", st)
	}
}

// TestUISavedReplies: create, preview, edit and delete saved replies from
// the page; bad input and other units' replies.
func TestUISavedReplies(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	e.user("agent@example.com", "bmw-de", access.RoleAgent)
	e.user("uk@example.com", "bmw-uk", access.RoleAgent)
	b := e.browser()
	b.login("agent@example.com")
	list := func() []inbox.SavedReply {
		var out struct{ Items []inbox.SavedReply }
		e.do(adm, "GET", "/api/v1/inbox/saved-replies", nil, &out)
		return out.Items
	}

	// The preview button fills the variables in and saves nothing.
	form := url.Values{"unit": {"bmw-de"}, "name": {"Probefahrt"}, "text": {"Hallo {{author.name}}, gern! Ihr Team von {{unit.name}}"}}
	pv := url.Values{"action": {"preview"}}
	for k, v := range form {
		pv[k] = v
	}
	st, _, body := b.post("/inbox/settings/saved-replies", pv)
	if st != 200 || !strings.Contains(body, "Hallo Alex Beispiel, gern! Ihr Team von BMW Deutschland") {
		t.Fatalf("preview: %d\n%s", st, body)
	}
	if n := len(list()); n != 0 {
		t.Fatalf("the preview saved: %d", n)
	}
	// The live preview's fragment (htmx).
	st, _, body = b.post("/inbox/settings/saved-replies/preview", url.Values{"unit": {"bmw-de"}, "text": {"Hi {{author.handle}} on {{channel.name}}"}})
	if st != 200 || !strings.Contains(body, "Hi @alex.beispiel on ") || strings.Contains(body, "<html") {
		t.Fatalf("live preview: %d\n%s", st, body)
	}
	if _, _, body = b.post("/inbox/settings/saved-replies/preview", url.Values{"unit": {"bmw-de"}, "text": {"Hi {{author.email}}"}}); !strings.Contains(body, "unknown variable {{author.email}}") {
		t.Fatalf("live preview of a bad variable:\n%s", body)
	}

	// Bad input: beside the field, nothing stored.
	for _, c := range []struct {
		field, value, id, says string
	}{
		{"text", "Hallo {{author.vorname}}", "saved-text", "unknown variable"},
		{"text", "Hallo {{author.name", "saved-text", "not closed"},
		{"name", "", "saved-name", "required"},
		{"unit", "", "saved-unit", "no such unit"},
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set(c.field, c.value)
		st, _, body := b.post("/inbox/settings/saved-replies", f)
		if msg := fieldError(body, c.id); st != 400 || !strings.Contains(msg, c.says) {
			t.Errorf("%s=%q: %d, %q", c.field, c.value, st, msg)
		}
	}
	if n := len(list()); n != 0 {
		t.Fatalf("bad input saved: %d", n)
	}

	if st, loc, body := b.post("/inbox/settings/saved-replies", form); st != http.StatusSeeOther || loc != "/inbox/settings/saved-replies" {
		t.Fatalf("create: %d %s\n%s", st, loc, body)
	}
	saved := list()
	if len(saved) != 1 || saved[0].Name != "Probefahrt" {
		t.Fatalf("created: %+v", saved)
	}
	id := saved[0].ID
	path := fmt.Sprintf("/inbox/settings/saved-replies/%d", id)
	if st, body := b.get(path); st != 200 || !strings.Contains(body, "Edit saved reply") || !strings.Contains(body, "Ihr Team von {{unit.name}}") {
		t.Fatalf("edit page: %d\n%s", st, body)
	}
	// A second reply with the same name conflicts beside the name.
	if st, _, body := b.post("/inbox/settings/saved-replies", form); st != 409 || !strings.Contains(fieldError(body, "saved-name"), "exists") {
		t.Fatalf("duplicate name: %d %q", st, fieldError(body, "saved-name"))
	}
	form.Set("text", "Guten Tag {{author.name}}!")
	if st, _, _ := b.post(path, form); st != http.StatusSeeOther {
		t.Fatalf("update: %d", st)
	}
	if saved := list(); len(saved) != 1 || saved[0].Text != "Guten Tag {{author.name}}!" {
		t.Fatalf("updated: %+v", saved)
	}

	// Another market's agent sees none of it.
	uk := e.browser()
	uk.login("uk@example.com")
	if st, body := uk.get("/inbox/settings/saved-replies"); st != 200 || strings.Contains(body, "Probefahrt") {
		t.Fatalf("foreign list: %d", st)
	}
	if st, _ := uk.get(path); st != 404 {
		t.Fatalf("foreign edit page: %d", st)
	}
	if st, _, _ := uk.post(path, url.Values{"unit": {"bmw-uk"}, "name": {"x"}, "text": {"y"}}); st != 404 {
		t.Fatalf("foreign update: %d", st)
	}
	if st, _, _ := uk.post(path+"/delete", nil); st != 404 {
		t.Fatalf("foreign delete: %d", st)
	}
	if st, _, _ := uk.post("/inbox/settings/saved-replies", url.Values{"unit": {"bmw-de"}, "name": {"x"}, "text": {"y"}}); st != 400 {
		t.Fatalf("create in a foreign unit: %d", st)
	}
	if saved := list(); len(saved) != 1 || saved[0].Text != "Guten Tag {{author.name}}!" {
		t.Fatalf("after the foreign attempts: %+v", saved)
	}

	if st, _, _ := b.post(path+"/delete", nil); st != http.StatusSeeOther {
		t.Fatalf("delete: %d", st)
	}
	if n := len(list()); n != 0 {
		t.Fatalf("after delete: %d", n)
	}
}

// TestUIRoutingRules: a rule made on the page routes the next messages
// into its queue; bad input and scope.
func TestUIRoutingRules(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	e.user("de@example.com", "bmw-de", access.RoleManager)
	e.user("uk@example.com", "bmw-uk", access.RoleManager)
	b := e.browser()
	b.login("de@example.com")
	rules := func() []inbox.RoutingRule {
		var out struct{ Items []inbox.RoutingRule }
		e.do(adm, "GET", "/api/v1/inbox/routing-rules", nil, &out)
		return out.Items
	}
	if st, body := b.get("/inbox/settings/routing"); st != 200 || !strings.Contains(body, "No routing rules") {
		t.Fatalf("empty page: %d\n%s", st, body)
	}
	ukChannel := e.channelOf("bmw-uk")
	for _, c := range []struct {
		form     url.Values
		id, says string
	}{
		{url.Values{"unit": {"bmw-de"}, "queue": {"Fleet Sales!"}}, "rule-queue", "lower-case"},
		{url.Values{"unit": {"bmw-de"}, "queue": {""}}, "rule-queue", "lower-case"},
		{url.Values{"unit": {"bmw-de"}, "queue": {"fleet"}, "lang": {"tlh"}}, "rule-lang", "must be one of"},
		{url.Values{"unit": {"bmw-de"}, "queue": {"fleet"}, "channel": {fmt.Sprint(ukChannel)}}, "rule-channel", "no channel"},
		{url.Values{"unit": {"bmw-de"}, "queue": {"fleet"}, "position": {"first"}}, "rule-position", "whole number"},
		{url.Values{"unit": {"bmw-uk"}, "queue": {"fleet"}}, "rule-unit", "no such unit"},
	} {
		st, _, body := b.post("/inbox/settings/routing", c.form)
		if msg := fieldError(body, c.id); st != 400 || !strings.Contains(msg, c.says) {
			t.Errorf("%v: %d, %q", c.form, st, msg)
		}
	}
	if n := len(rules()); n != 0 {
		t.Fatalf("bad input stored %d rules", n)
	}
	st, loc, body := b.post("/inbox/settings/routing", url.Values{"unit": {"bmw-de"}, "keywords": {"Flotte\nFirmenwagen"}, "queue": {"fleet"}})
	if st != http.StatusSeeOther || loc != "/inbox/settings/routing" {
		t.Fatalf("create: %d %s\n%s", st, loc, body)
	}
	list := rules()
	if len(list) != 1 || list[0].Queue != "fleet" || len(list[0].Keywords) != 2 {
		t.Fatalf("created: %+v", list)
	}
	path := fmt.Sprintf("/inbox/settings/routing/%d", list[0].ID)
	if _, body := b.get("/inbox/settings/routing"); !strings.Contains(body, "Flotte, Firmenwagen") || !strings.Contains(body, path) {
		t.Fatalf("list:\n%s", body)
	}
	// The rule routes what arrives from now on; the rest keeps its
	// intent's queue, and the SLA page offers the new queue.
	de := e.channelOf("bmw-de")
	var got ingestAnswer
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(de, "r1", "p1", "Wir suchen zwölf Firmenwagen für unsere Flotte."),
		msgIn(de, "r2", "p2", "Mein Navi startet nicht mehr"),
	}}, &got)
	var msgs messageList
	e.do(adm, "GET", "/api/v1/messages?unit=bmw-de", nil, &msgs)
	queues := map[string]string{}
	for _, m := range msgs.Items {
		queues[m.ExternalID] = m.Queue
	}
	if queues["r1"] != "fleet" || queues["r2"] != "support" {
		t.Fatalf("queues: %v", queues)
	}
	if _, body := b.get("/inbox/settings/sla?unit=bmw-de"); !strings.Contains(body, `name="target-fleet"`) {
		t.Fatalf("SLA page without the fleet queue")
	}
	// Edit: German only.
	if st, _, _ := b.post(path, url.Values{"unit": {"bmw-de"}, "keywords": {"Flotte"}, "queue": {"fleet"}, "lang": {"de"}, "position": {"2"}}); st != http.StatusSeeOther {
		t.Fatalf("update: %d", st)
	}
	if list := rules(); list[0].Lang != "de" || list[0].Position != 2 || len(list[0].Keywords) != 1 {
		t.Fatalf("updated: %+v", list)
	}

	uk := e.browser()
	uk.login("uk@example.com")
	if st, body := uk.get("/inbox/settings/routing"); st != 200 || strings.Contains(body, "Flotte") {
		t.Fatalf("foreign list: %d", st)
	}
	if st, _ := uk.get(path); st != 404 {
		t.Fatalf("foreign edit page: %d", st)
	}
	if st, _, _ := uk.post(path, url.Values{"unit": {"bmw-uk"}, "queue": {"x"}}); st != 404 {
		t.Fatalf("foreign update: %d", st)
	}
	if st, _, _ := uk.post(path+"/delete", nil); st != 404 {
		t.Fatalf("foreign delete: %d", st)
	}
	if st, _, _ := b.post(path+"/delete", nil); st != http.StatusSeeOther || len(rules()) != 0 {
		t.Fatalf("delete: %d", st)
	}
}

// TestUICatalogue: a model added on the brand's page is recognised in the
// next messages; bad input, stale edits and other brands.
func TestUICatalogue(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	e.user("bmw@example.com", "bmw", access.RoleManager)
	e.user("mini@example.com", "mini", access.RoleManager)
	e.user("agent@example.com", "bmw", access.RoleAgent)
	b := e.browser()
	b.login("bmw@example.com")
	cat := func() inbox.BrandCatalogue {
		var c inbox.BrandCatalogue
		if st := e.do(adm, "GET", "/api/v1/catalogue/bmw", nil, &c); st != 200 {
			t.Fatalf("catalogue API: %d", st)
		}
		return c
	}
	st, body := b.get("/catalogue")
	if st != 200 || !strings.Contains(body, `href="/catalogue/bmw"`) || strings.Contains(body, "/catalogue/mini") {
		t.Fatalf("catalogue list: %d\n%s", st, body)
	}
	st, body = b.get("/catalogue/bmw")
	if st != 200 || !strings.Contains(body, "built-in catalogue of BMW") || !strings.Contains(body, ">X5") || !strings.Contains(body, `id="model-form"`) {
		t.Fatalf("BMW catalogue: %d\n%s", st, body)
	}
	before := len(cat().Brand.Models)
	for _, c := range []struct {
		form     url.Values
		id, says string
	}{
		{url.Values{"name": {""}, "version": {"0"}}, "model-name", "required"},
		{url.Values{"name": {"X5"}, "version": {"0"}}, "model-name", "already has a model"},
		{url.Values{"name": {"--"}, "version": {"0"}}, "model-name", "no letter or digit"},
		{url.Values{"name": {"Nordlicht"}, "aliases": {strings.Repeat("y", 61)}, "version": {"0"}}, "model-aliases", "longer than 60"},
	} {
		st, _, body := b.post("/catalogue/bmw", c.form)
		if msg := fieldError(body, c.id); st != 400 || !strings.Contains(msg, c.says) {
			t.Errorf("%v: %d %q", c.form, st, msg)
		}
	}
	if c := cat(); !c.Seeded || len(c.Brand.Models) != before {
		t.Fatalf("bad input changed the catalogue: seeded %t, %d models", c.Seeded, len(c.Brand.Models))
	}
	st, loc, body := b.post("/catalogue/bmw", url.Values{"name": {"Nordlicht"}, "aliases": {"NL\nVision Nordlicht"}, "version": {"0"}})
	if st != http.StatusSeeOther || loc != "/catalogue/bmw" {
		t.Fatalf("add: %d %s\n%s", st, loc, body)
	}
	c := cat()
	if c.Seeded || c.Version != 1 || len(c.Brand.Models) != before+1 {
		t.Fatalf("after adding: seeded %t version %d, %d models", c.Seeded, c.Version, len(c.Brand.Models))
	}
	// A form loaded before the change is stale: 409, nothing changed.
	if st, _, body := b.post("/catalogue/bmw", url.Values{"name": {"Z9"}, "version": {"0"}}); st != 409 || !strings.Contains(body, "changed since") {
		t.Fatalf("stale edit: %d", st)
	}
	// The classifier knows the new model from the next message on.
	var got ingestAnswer
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(e.channelOf("bmw-de"), "c1", "p1", "Wann kann ich die Nordlicht bestellen? Ich will eine kaufen."),
	}}, &got)
	var msgs messageList
	e.do(adm, "GET", "/api/v1/messages", nil, &msgs)
	if len(msgs.Items) == 0 || !slices.Contains(msgs.Items[0].Models, "Nordlicht") {
		t.Fatalf("models of the new message: %+v", msgs.Items)
	}
	// Edit and delete through the page.
	if st, body := b.get("/catalogue/bmw?edit=Nordlicht"); st != 200 || !strings.Contains(body, "Edit Nordlicht") || !strings.Contains(body, ">NL\nVision Nordlicht</textarea>") {
		t.Fatalf("edit page: %d", st)
	}
	if st, _, _ := b.post("/catalogue/bmw", url.Values{"original": {"Nordlicht"}, "name": {"Nordlicht"}, "aliases": {"NL"}, "ambiguous": {"on"}, "version": {"1"}}); st != http.StatusSeeOther {
		t.Fatalf("edit: %d", st)
	}
	if c := cat(); c.Version != 2 || c.Brand.Models[len(c.Brand.Models)-1].Ambiguous != true || len(c.Brand.Models[len(c.Brand.Models)-1].Aliases) != 1 {
		t.Fatalf("after editing: %+v", c.Brand.Models[len(c.Brand.Models)-1])
	}
	if st, _, _ := b.post("/catalogue/bmw/delete", url.Values{"name": {"Nordlicht"}, "version": {"2"}}); st != http.StatusSeeOther {
		t.Fatalf("delete: %d", st)
	}
	if c := cat(); len(c.Brand.Models) != before {
		t.Fatalf("after deleting: %d models", len(c.Brand.Models))
	}

	// Another brand's manager: 404; an agent of the brand reads, may not edit.
	mini := e.browser()
	mini.login("mini@example.com")
	if st, _ := mini.get("/catalogue/bmw"); st != 404 {
		t.Fatalf("foreign catalogue page: %d", st)
	}
	if st, _, _ := mini.post("/catalogue/bmw", url.Values{"name": {"Z9"}, "version": {"3"}}); st != 404 {
		t.Fatalf("foreign add: %d", st)
	}
	if st, _, _ := mini.post("/catalogue/bmw/delete", url.Values{"name": {"X5"}, "version": {"3"}}); st != 404 {
		t.Fatalf("foreign delete: %d", st)
	}
	if st, _ := mini.get("/catalogue/bmw-de"); st != 404 {
		t.Fatalf("a unit that is no brand: %d", st)
	}
	agent := e.browser()
	agent.login("agent@example.com")
	if st, body := agent.get("/catalogue/bmw"); st != 200 || strings.Contains(body, `id="model-form"`) {
		t.Fatalf("agent's view: %d", st)
	}
	if st, _, _ := agent.post("/catalogue/bmw", url.Values{"name": {"Z9"}, "version": {"3"}}); st != 403 {
		t.Fatalf("agent adds: %d", st)
	}
	if c := cat(); c.Version != 3 || len(c.Brand.Models) != before {
		t.Fatalf("foreign attempts changed the catalogue: version %d", c.Version)
	}
}

// TestUILeadsPerDealer: the leads page lists a market's or a dealer's
// leads, chosen among the caller's units only.
func TestUILeadsPerDealer(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	e.user("sales@example.com", "bmw-de", access.RoleSales)
	de := e.channelOf("bmw-de")
	var got ingestAnswer
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(de, "l1", "p1", "Ich möchte einen X5 kaufen, bitte ein Angebot aus Hamburg."),
		msgIn(de, "l2", "p2", "Ich möchte einen iX3 kaufen, bitte ein Angebot."),
	}}, &got)
	b := e.browser()
	b.login("sales@example.com")
	st, body := b.get("/leads")
	if st != 200 || !strings.Contains(body, `<option value="bmw-hamburg-hafen"`) || strings.Contains(body, `value="bmw-uk"`) ||
		!strings.Contains(body, "iX3") || !strings.Contains(body, "X5") {
		t.Fatalf("leads: %d\n%s", st, body)
	}
	if _, body := b.get("/leads?unit=bmw-hamburg-hafen"); !strings.Contains(body, "X5") || strings.Contains(body, "iX3") ||
		!strings.Contains(body, `<option value="bmw-hamburg-hafen" selected>`) {
		t.Fatalf("the dealer's leads:\n%s", body)
	}
}

// TestUIInboxRows: the live update's rows are the filter's messages after
// the given one, in the caller's units only.
func TestUIInboxRows(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	e.user("agent@example.com", "bmw-de", access.RoleAgent)
	e.user("uk@example.com", "bmw-uk", access.RoleAgent)
	de := e.channelOf("bmw-de")
	var got ingestAnswer
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(de, "w1", "p1", "Erste Nachricht zum X1"),
		msgIn(de, "w2", "p2", "Zweite Nachricht: mein Navi startet nicht"),
		msgIn(de, "w3", "p3", "Dritte Nachricht: Danke!"),
	}}, &got)
	var list messageList
	e.do(adm, "GET", "/api/v1/messages", nil, &list)
	first := list.Items[len(list.Items)-1].ID
	b := e.browser()
	b.login("agent@example.com")
	st, body := b.get(fmt.Sprintf("/inbox/rows?after=%d", first))
	if st != 200 || strings.Count(body, "<tr ") != 2 || strings.Contains(body, "Erste") || strings.Index(body, "Dritte") > strings.Index(body, "Zweite") {
		t.Fatalf("rows: %d\n%s", st, body)
	}
	if _, body := b.get(fmt.Sprintf("/inbox/rows?after=%d&intent=support", first)); strings.Count(body, "<tr ") != 1 || !strings.Contains(body, "Navi") {
		t.Fatalf("filtered rows:\n%s", body)
	}
	uk := e.browser()
	uk.login("uk@example.com")
	if st, body := uk.get(fmt.Sprintf("/inbox/rows?after=%d", first)); st != 200 || strings.Contains(body, "<tr") {
		t.Fatalf("foreign rows: %d\n%s", st, body)
	}
}

// TestAssignToColleague: a conversation goes to someone who may answer
// its unit, chosen on its page; never to someone outside it.
func TestAssignToColleague(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	agent := e.user("agent@example.com", "bmw-de", access.RoleAgent)
	e.user("kim@example.com", "bmw-hamburg-hafen", access.RoleAgent)
	e.user("sales@example.com", "bmw-de", access.RoleSales)
	e.user("uk@example.com", "bmw-uk", access.RoleAgent)
	userID := func(email string) int64 {
		u, _, err := e.store.UserByEmail(context.Background(), email)
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	var got ingestAnswer
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(e.channelOf("bmw-de"), "a1", "p1", "Ich hätte gern ein Angebot für einen X3 aus Hamburg."),
	}}, &got)
	var list messageList
	e.do(adm, "GET", "/api/v1/messages", nil, &list)
	id := list.Items[0].ID
	if list.Items[0].Unit != "bmw-hamburg-hafen" {
		t.Fatalf("routed to %s", list.Items[0].Unit)
	}
	b := e.browser()
	b.login("agent@example.com")
	path := fmt.Sprintf("/inbox/%d", id)
	_, body := b.get(path)
	if !strings.Contains(body, `id="assign-to"`) || !strings.Contains(body, "kim@example.com") || strings.Contains(body, "uk@example.com") ||
		strings.Contains(body, "sales@example.com") {
		t.Fatalf("assignees:\n%s", body)
	}
	kim := userID("kim@example.com")
	if st, _, _ := b.post(path, url.Values{"assign_to": {fmt.Sprint(kim)}}); st != http.StatusSeeOther {
		t.Fatalf("assign: %d", st)
	}
	if _, body := b.get(path); !strings.Contains(body, "Assigned to kim@example.com") {
		t.Fatalf("after assigning:\n%s", body)
	}
	// Someone of another market, or who may not answer: refused, nothing changed.
	for _, email := range []string{"uk@example.com", "sales@example.com"} {
		var bad apiErr
		if st := e.do(agent, "PATCH", fmt.Sprintf("/api/v1/messages/%d", id), map[string]any{"assigned_to": userID(email)}, &bad); st != 400 || bad.Error.Field != "assigned_to" {
			t.Fatalf("assign to %s: %d %+v", email, st, bad)
		}
		if st := e.do(agent, "POST", "/api/v1/messages/bulk", map[string]any{"ids": []int64{id}, "assigned_to": userID(email)}, &bad); st != 400 {
			t.Fatalf("bulk assign to %s: %d %+v", email, st, bad)
		}
	}
	var as struct{ Items []inbox.Assignee }
	if e.do(agent, "GET", fmt.Sprintf("/api/v1/messages/%d/assignees", id), nil, &as); len(as.Items) != 3 {
		t.Fatalf("assignees (admin, agent, kim): %+v", as.Items)
	}
	var m inbox.Message
	if e.do(agent, "GET", fmt.Sprintf("/api/v1/messages/%d", id), nil, &m); m.AssignedTo != kim {
		t.Fatalf("assignee after the refusals: %d", m.AssignedTo)
	}
}
