package transcode

import "testing"

const (
	zScalars  = "strait.codec.zoo.Scalars"
	zRepeated = "strait.codec.zoo.Repeated"
	zMaps     = "strait.codec.zoo.Maps"
	zOneofs   = "strait.codec.zoo.Oneofs"
	zWKT      = "strait.codec.zoo.WellKnown"
	zNode     = "strait.codec.zoo.Node"
	zNames    = "strait.codec.zoo.Names"
	zZoo      = "strait.codec.zoo.Zoo"
	zConf     = "protobuf_test_messages.proto3.TestAllTypesProto3"
	zConf2    = "protobuf_test_messages.proto2.TestAllTypesProto2"
	zConfReq  = "protobuf_test_messages.proto2.TestAllRequiredTypesProto2"
	zConf23   = "protobuf_test_messages.editions.TestAllTypesEdition2023"
)

func TestScalarsDiff(t *testing.T) { runCases(t, scalarsCases) }

var scalarsCases = []jsonCase{
	{zScalars, `{}`},
	{zScalars, ` { "i32" : 1 , "i64" : "2" } `},
	{zScalars, `{"i32":-2147483648,"i64":"-9223372036854775808","u32":4294967295,"u64":"18446744073709551615"}`},
	{zScalars, `{"i32":2147483648}`},
	{zScalars, `{"u32":-1}`},
	{zScalars, `{"u64":"18446744073709551616"}`},
	{zScalars, `{"i32":1.0,"i64":1e3,"u32":"1e2","s32":-5,"s64":"-7","f32":7,"f64":"8","sf32":-9,"sf64":"-10"}`},
	{zScalars, `{"i32":1.5}`},
	{zScalars, `{"i32":"1.5"}`},
	{zScalars, `{"i32":" 1"}`},
	{zScalars, `{"i32":"1 "}`},
	{zScalars, `{"i32":"0x10"}`},
	{zScalars, `{"i32":01}`},
	{zScalars, `{"i32":-0}`},
	{zScalars, `{"u32":-0}`},
	{zScalars, `{"u32":"-0.0e5"}`},
	{zScalars, `{"i32":1e }`},
	{zScalars, `{"i32":1e}`},
	{zScalars, `{"i32":1e+ }`},
	{zScalars, `{"i32":0e+}`},
	{zScalars, `{"i32":0e-]`},
	{zScalars, `{"i32":0e}`},
	{zScalars, `{"fl":1e }`},
	{zScalars, `{"i64":"1e19"}`},
	{zScalars, `{"i64":1e18}`},
	{zScalars, `{"u64":1.8446744073709551615e19}`},
	{zScalars, `{"i32":100e-2}`},
	{zScalars, `{"i32":120e-1}`},
	{zScalars, `{"i32":0.0000001e7}`},
	{zScalars, `{"fl":1.5,"db":-2.25e-300}`},
	{zScalars, `{"fl":"NaN","db":"Infinity"}`},
	{zScalars, `{"fl":"-Infinity","db":"-Infinity"}`},
	{zScalars, `{"fl":"nan"}`},
	{zScalars, `{"fl":3.5e38}`},
	{zScalars, `{"fl":3.4e38}`},
	{zScalars, `{"db":1e309}`},
	{zScalars, `{"db":"1e-400"}`},
	{zScalars, `{"db":-0}`},
	{zScalars, `{"fl":"-0.0"}`},
	{zScalars, `{"b":true,"s":"hé\u00e9\ud83d\ude00\n\"\\\/","by":"aGVsbG8="}`},
	{zScalars, `{"b":"true"}`},
	{zScalars, `{"b":1}`},
	{zScalars, `{"s":1}`},
	{zScalars, `{"s":"\ud83d"}`},
	{zScalars, `{"s":"\ude00"}`},
	{zScalars, `{"s":"\ud83dx"}`},
	{zScalars, "{\"s\":\"\xff\"}"},
	{zScalars, "{\"s\":\"\xed\xa0\x80\"}"},
	{zScalars, "{\"s\":\"a\tb\"}"},
	{zScalars, `{"s":"\x"}`},
	{zScalars, `{"s":"\u12"}`},
	{zScalars, `{"by":"aGVsbG8"}`},
	{zScalars, `{"by":"-_-_"}`},
	{zScalars, `{"by":"+/+/"}`},
	{zScalars, `{"by":"+/-_"}`},
	{zScalars, `{"by":"a"}`},
	{zScalars, `{"by":"YQ=="}`},
	{zScalars, `{"by":"YQ="}`},
	{zScalars, `{"by":"Y\nQ=="}`},
	{zScalars, `{"by":""}`},
	{zScalars, `{"color":"RED","aliased":"UNO","sparse":"SMALL"}`},
	{zScalars, `{"color":2,"aliased":1,"sparse":-1000000}`},
	{zScalars, `{"color":99}`},
	{zScalars, `{"color":"PURPLE"}`},
	{zScalars, `{"color":"2"}`},
	{zScalars, `{"color":2.0}`},
	{zScalars, `{"color":null}`},
	{zScalars, `{"i32":null,"s":null,"by":null}`},
	{zScalars, `{"i32":1,"i32":2}`},
	{zScalars, `{"unknown":1}`},
	{zScalars, `{"unknown":{"a":[1,{"b":null}],"c":"\ud800"}}`},
	{zScalars, `{"unknown":[1,]}`},
	{zScalars, `{"[ext]":1}`},
	{zScalars, `{"i32":1,}`},
	{zScalars, `{"i32":1 "i64":2}`},
	{zScalars, `{"i32" 1}`},
	{zScalars, `{i32:1}`},
	{zScalars, `{"i32":1}}`},
	{zScalars, `{"i32":1} x`},
	{zScalars, `{"i32":1`},
	{zScalars, `{"i32":`},
	{zScalars, ``},
	{zScalars, `null`},
	{zScalars, `[]`},
	{zScalars, `{"i32":true}`},
	{zScalars, `{"b":truex}`},
	{zScalars, `{"i\u0033\u0032":5}`},
	{zScalars, `{"s":"` + string(make([]byte, 0)) + `long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long"}`},
}
