package transcode

import "testing"

// TestCodecZeroAllocWKT pins zero allocations on well-known types too.
func TestCodecZeroAllocWKT(t *testing.T) {
	if codecRace {
		t.Skip("sync.Pool is randomized under the race detector")
	}
	z := loadZoo(t)
	s := z.schema(t, Options{})
	p := s.Plan(zWKT)
	js := []byte(`{"any":{"@type":"type.googleapis.com/strait.codec.zoo.Scalars","i32":5,"s":"x"},` +
		`"duration":"1.5s","mask":"a.bC,d","struct":{"a":[1,"x",null,{"b":true}]},"value":"v",` +
		`"ts":"2024-02-29T23:59:59.123Z","i32W":7,"strW":"w","maps":null}`)
	js = js[:len(js)-len(`,"maps":null}`)]
	js = append(js, '}')
	wire, err := p.AppendWire(nil, js)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.AppendJSON(nil, wire)
	if err != nil {
		t.Fatal(err)
	}
	wbuf, jbuf := make([]byte, 0, 1024), make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { wbuf, _ = p.AppendWire(wbuf[:0], js) }); n != 0 {
		t.Errorf("AppendWire: %v allocs per call; want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { jbuf, _ = p.AppendJSON(jbuf[:0], wire) }); n != 0 {
		t.Errorf("AppendJSON: %v allocs per call; want 0 (%s)", n, out)
	}
}
