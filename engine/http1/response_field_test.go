package http1

import "testing"

func TestAppendField(t *testing.T) {
	head := OpenHead(AppendResponseHead(nil, 200, "application/json", 2, true, nil))
	head = AppendField(head, "x-ok", "v")
	head = AppendField(head, "x-bad", "a\r\nX-Injected: 1")
	head = AppendField(head, "bad name", "v")
	got := string(EndHead(head))
	want := "\r\nx-ok: v\r\n\r\n"
	if len(got) < len(want) || got[len(got)-len(want):] != want {
		t.Fatalf("got %q; want it to end with %q and carry no bad field", got, want)
	}
}
