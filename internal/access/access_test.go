package access

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash %q is not argon2id", h)
	}
	if !CheckPassword(h, "correct horse battery") || CheckPassword(h, "correct horse battery!") || CheckPassword("garbage", "x") {
		t.Fatal("CheckPassword is wrong")
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
}

func TestPrincipalScope(t *testing.T) {
	p := &Principal{Grants: []Grant{
		{UnitPath: "/1/3/", Role: RoleManager},
		{UnitPath: "/1/3/7/", Role: RoleAdmin},
		{UnitPath: "/1/4/", Role: RoleViewer},
	}}
	if !p.Can(ManageDirectory, "/1/3/9/") || p.Can(ManageDirectory, "/1/4/") || !p.Can(ReadDirectory, "/1/4/5/") || p.Can(ReadDirectory, "/1/") {
		t.Fatal("Can is wrong")
	}
	if !p.Can(ManageAccess, "/1/3/7/8/") || p.Can(ManageAccess, "/1/3/") {
		t.Fatal("ManageAccess is wrong")
	}
	if got := strings.Join(p.Scope(ReadDirectory), " "); got != "/1/3/ /1/4/" {
		t.Fatalf("scope = %q", got)
	}
	var nobody *Principal
	if nobody.Can(ReadDirectory, "/1/") || len(nobody.Scope(ReadDirectory)) != 0 || nobody.Scope(ReadDirectory) == nil {
		t.Fatal("a nil principal must see nothing (and its scope must not be nil, which means all)")
	}
	if SystemPrincipal().Scope(ReadDirectory) != nil || !SystemPrincipal().Can(ManageAccess, "/9/") {
		t.Fatal("the system principal sees everything")
	}
}
