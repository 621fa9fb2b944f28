package transcode_test

import (
	"fmt"
	"os"

	"github.com/straitgw/strait/transcode"
)

// A REST body becomes protobuf wire bytes for the upstream, and the
// upstream's answer becomes JSON again, without message objects.
func Example() {
	set, err := os.ReadFile("testdata/codec/zoo.pb") // protoc --include_imports --descriptor_set_out
	if err != nil {
		panic(err)
	}
	files, err := transcode.LoadDescriptorSets(set)
	if err != nil {
		panic(err)
	}
	schema, err := transcode.NewSchema(files, transcode.Options{UseProtoNames: true})
	if err != nil {
		panic(err)
	}
	plan := schema.Plan("strait.codec.zoo.Scalars")

	wire, err := plan.AppendWire(nil, []byte(`{"i64": "42", "s": "héllo", "color": "GREEN", "by": "AAE="}`))
	fmt.Printf("%x %v\n", wire, err)
	js, err := plan.AppendJSON(nil, wire)
	fmt.Printf("%s %v\n", js, err)
	_, err = plan.AppendWire(nil, []byte(`{"i32": "forty-two"}`))
	fmt.Println(err)
	// Output:
	// 102a720668c3a96c6c6f8001027a020001 <nil>
	// {"i64":"42","s":"héllo","by":"AAE=","color":"GREEN"} <nil>
	// transcode: offset 8: invalid value for int32 field i32: "forty-two"
}
