package org_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/store"
	"github.com/vernetzen/vernetzen/internal/store/storetest"
)

func newService(t *testing.T) (*org.Service, *store.Store) {
	st := storetest.Open(t)
	if err := st.SyncPlatforms(context.Background(), org.Platforms); err != nil {
		t.Fatal(err)
	}
	return org.NewService(st, st.OrgTx), st
}

func importFile(t *testing.T, svc *org.Service, path string) (org.ImportResult, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := org.ParseMap(path, f)
	if err != nil {
		return org.ImportResult{}, err
	}
	return svc.Import(context.Background(), access.SystemPrincipal(), path, m)
}

func counts(t *testing.T, svc *org.Service) (int, int) {
	t.Helper()
	ctx := context.Background()
	units, err := svc.Tree(ctx, access.SystemPrincipal())
	if err != nil {
		t.Fatal(err)
	}
	_, total, err := svc.Channels(ctx, access.SystemPrincipal(), org.ChannelFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(units), total
}

func TestImportDemoMapIsIdempotent(t *testing.T) {
	svc, _ := newService(t)
	res, err := importFile(t, svc, "../demo/group-channels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if u, c := counts(t, svc); u != 14 || c != 26 {
		t.Fatalf("after import: %d units, %d channels; want 14, 26 (%v)", u, c, res)
	}
	res, err = importFile(t, svc, "../demo/group-channels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed() {
		t.Fatalf("second import changed something: %v", res)
	}
	if u, c := counts(t, svc); u != 14 || c != 26 {
		t.Fatalf("after second import: %d units, %d channels", u, c)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	if _, err := importFile(t, svc, "../demo/group-channels.yaml"); err != nil {
		t.Fatal(err)
	}
	sys := access.SystemPrincipal()
	m, err := svc.Export(ctx, sys)
	if err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := org.WriteMap(&first, m); err != nil {
		t.Fatal(err)
	}
	// Re-importing the export into the same store changes nothing.
	m2, err := org.ParseMap("export.yaml", bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatalf("parse export: %v\n%s", err, first.String())
	}
	if res, err := svc.Import(ctx, sys, "export.yaml", m2); err != nil || res.Changed() {
		t.Fatalf("re-import of export: %v, %v", res, err)
	}
	// Into an empty store it gives the same directory.
	svc2, _ := newService(t)
	if _, err := svc2.Import(ctx, sys, "export.yaml", m2); err != nil {
		t.Fatal(err)
	}
	m3, err := svc2.Export(ctx, sys)
	if err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	org.WriteMap(&second, m3)
	if first.String() != second.String() {
		t.Fatalf("round trip differs:\n--- first\n%s\n--- second\n%s", first.String(), second.String())
	}
}

func TestImportRecognisesURLs(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	if _, err := importFile(t, svc, "../demo/group-channels.yaml"); err != nil {
		t.Fatal(err)
	}
	list, _, err := svc.Channels(ctx, access.SystemPrincipal(), org.ChannelFilter{Unit: "mini", Platform: "twitter"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Platform != "x" || list[0].Handle != "mini" || list[0].URL != "https://x.com/mini" || list[0].GivenURL != "www.twitter.com/mini" {
		t.Fatalf("mini on X: %+v", list)
	}
}

func TestImportBadInputChangesNothing(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"malformed", "units: [\n  {key: a", "not a valid YAML"},
		{"unknown platform", "units:\n  - {key: g, name: G, kind: group}\nchannels:\n  - {unit: g, platform: myspace, url: myspace.com/x}\n", "f.yaml:4: platform: unknown platform \"myspace\""},
		{"unknown unit", "units:\n  - {key: g, name: G, kind: group}\nchannels:\n  - {unit: nope, platform: facebook, url: facebook.com/x}\n", "f.yaml:4: unit: unit \"nope\" not found"},
		{"bad kind", "units:\n  - key: g\n    name: G\n    kind: galaxy\n", "f.yaml:2: kind:"},
		{"duplicate channel", "units:\n  - {key: g, name: G, kind: group}\nchannels:\n  - {unit: g, platform: facebook, url: facebook.com/x}\n  - {unit: g, platform: facebook, url: https://www.facebook.com/X/}\n", "f.yaml:5:"},
		{"duplicate key", "units:\n  - key: g\n    name: G\n    kind: group\n    children:\n      - {key: g, name: H, kind: brand}\n", "f.yaml:6: unit key \"g\" appears twice"},
		{"unknown field", "units:\n  - {key: g, name: G, kind: group, colour: red}\n", "f.yaml:2: unknown field \"colour\""},
		{"url of other platform", "units:\n  - {key: g, name: G, kind: group}\nchannels:\n  - {unit: g, platform: facebook, url: twitter.com/x}\n", "f.yaml:4: url:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc, _ := newService(t)
			m, err := org.ParseMap("f.yaml", strings.NewReader(tc.yaml))
			if err == nil {
				_, err = svc.Import(context.Background(), access.SystemPrincipal(), "f.yaml", m)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || errs.CodeOf(err) != errs.Invalid {
				t.Fatalf("error = %v (%s), want %q", err, errs.CodeOf(err), tc.want)
			}
			if u, c := counts(t, svc); u != 0 || c != 0 {
				t.Fatalf("bad import left %d units, %d channels", u, c)
			}
		})
	}
}
