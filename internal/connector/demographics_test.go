package connector

import (
	"context"
	"testing"
)

type demographer struct{ readOnly }

func (demographer) Platform() string { return "demo" }
func (demographer) FetchDemographics(ctx context.Context, a *Account) (Demographics, error) {
	return Demographics{Age: map[string]float64{Age18to24: 3}}, nil
}

// Registration checks the demographics capability both ways, and the
// helper refuses a platform that does not report demographics.
func TestDemographicsCapability(t *testing.T) {
	if err := CheckCapabilities(readOnly{Capabilities{Demographics: true}}); err == nil {
		t.Fatal("declared Demographics without DemographicsFetcher must be refused")
	}
	if err := CheckCapabilities(demographer{}); err == nil {
		t.Fatal("a DemographicsFetcher that does not declare it must be refused")
	}
	ok := demographer{readOnly{Capabilities{Demographics: true}}}
	r := NewRegistry(ok)
	c, _ := r.Get("demo")
	d, err := FetchDemographics(context.Background(), c, &Account{})
	if err != nil || d.Age[Age18to24] != 3 || d.Empty() {
		t.Fatalf("%+v %v", d, err)
	}
	_, err = FetchDemographics(context.Background(), readOnly{}, &Account{})
	if e := wantKind(t, err, KindPermanent); e.Code != "unsupported" {
		t.Fatalf("code %q", e.Code)
	}
	if !(Demographics{Age: map[string]float64{Age13to17: 0}}).Empty() {
		t.Fatal("zeros are empty")
	}
}
