package filter

import "testing"

func TestSelector(t *testing.T) {
	get := Route{Service: "bookstore.v1.Bookstore", Method: "GetShelf", HTTPMethod: "GET", Template: "/v1/shelves/{shelf}"}
	grpc := Route{Service: "bookstore.v1.Bookstore", Method: "GetShelf"}
	tests := []struct {
		sel  Selector
		r    Route
		want bool
	}{
		{"", get, true},
		{"*", grpc, true},
		{"bookstore.v1.Bookstore", get, true},
		{"bookstore.v1.Bookstore", grpc, true},
		{"bookstore.v1", get, false},
		{"bookstore.v1.Bookstore/GetShelf", grpc, true},
		{"bookstore.v1.Bookstore/ListShelves", grpc, false},
		{"GET /v1/shelves/{shelf}", get, true},
		{"get /v1/shelves/{shelf}", get, true},
		{"POST /v1/shelves/{shelf}", get, false},
		{"GET /v1/shelves/{shelf}", grpc, false},
	}
	for _, tt := range tests {
		if got := tt.sel.Matches(tt.r); got != tt.want {
			t.Errorf("%q.Matches(%+v): got %v; want %v", tt.sel, tt.r, got, tt.want)
		}
	}
}

func TestFor(t *testing.T) {
	a, b := Func(func(Request, func(Result)) Result { return Continue }), Func(func(Request, func(Result)) Result { return Continue })
	entries := []Entry{{Filter: a}, {Filter: b, Routes: []Selector{"p.S/M"}}}
	if got := For(entries, Route{Service: "p.S", Method: "M"}); len(got) != 2 {
		t.Errorf("p.S/M: got %d filters; want 2", len(got))
	}
	if got := For(entries, Route{Service: "p.S", Method: "N"}); len(got) != 1 {
		t.Errorf("p.S/N: got %d filters; want 1", len(got))
	}
}

func FuzzSelector(f *testing.F) {
	for _, s := range []string{"", "*", "p.S", "p.S/M", "GET /v1/x", " get  /a ", "/"} {
		f.Add(s, "p.S", "M", "GET", "/v1/x")
	}
	f.Fuzz(func(t *testing.T, sel, svc, m, hm, tmpl string) {
		r := Route{Service: svc, Method: m, HTTPMethod: hm, Template: tmpl}
		_ = Selector(sel).Matches(r) // never panics
		if !Selector("").Matches(r) || !Selector("*").Matches(r) {
			t.Fatal("the empty selector must match everything")
		}
	})
}
