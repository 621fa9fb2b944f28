package transcode

import (
	"strconv"
	"strings"
	"testing"
)

func TestRepeatedDiff(t *testing.T) { runCases(t, repeatedCases) }

var repeatedCases = []jsonCase{
	{zRepeated, `{"i32":[1,-2,3],"i64":["1",-2,"3"],"u32":[0,4294967295],"u64":["18446744073709551615"]}`},
	{zRepeated, `{"s32":[-1,1],"s64":["-9223372036854775808"],"f32":[1],"f64":[2],"sf32":[-3],"sf64":[-4]}`},
	{zRepeated, `{"fl":[1.5,"NaN","-Infinity"],"db":[0,-0,"1e300"],"b":[true,false,true]}`},
	{zRepeated, `{"s":["a","","c"],"by":["","AAE="],"color":["RED",2,"BLUE",7]}`},
	{zRepeated, `{"unpacked":[0,1,2],"unpackedEnum":["RED","COLOR_UNSPECIFIED"]}`},
	{zRepeated, `{"msgs":[{},{"i32":1},{"s":"x","color":"GREEN"}]}`},
	{zRepeated, `{"i32":[]}`},
	{zRepeated, `{"i32":null}`},
	{zRepeated, `{"i32":[null]}`},
	{zRepeated, `{"msgs":[null]}`},
	{zRepeated, `{"i32":1}`},
	{zRepeated, `{"i32":[1,]}`},
	{zRepeated, `{"i32":[,1]}`},
	{zRepeated, `{"i32":[1 2]}`},
	{zRepeated, `{"i32":[1}`},
	{zRepeated, `{"color":["RED","NOPE"]}`},
	{zRepeated, `{"color":["NOPE"]}`},
	{zRepeated, `{"unpackedEnum":["NOPE","RED"]}`},
	{zRepeated, `{"i32":[` + strings.Repeat("1,", 300) + `1]}`},
	{zRepeated, `{"s":["` + strings.Repeat("x", 300) + `"]}`},
}

func TestMapsDiff(t *testing.T) { runCases(t, mapsCases) }

var mapsCases = []jsonCase{
	{zMaps, `{"ss":{"a":"b","":"","\u00e9":"x"},"ii":{"-1":1,"0":0,"2147483647":3},"ls":{"-9223372036854775808":"min"}}`},
	{zMaps, `{"ub":{"4294967295":true,"0":false},"uby":{"18446744073709551615":"AAE="},"sc":{"-5":"RED","6":2}}`},
	{zMaps, `{"sd":{"-1":1.5,"1":"NaN"},"ff":{"1":1},"fl":{"2":"3"},"sfm":{"-1":{"i32":5},"2":{}},"sfu":{"-9":"9"}}`},
	{zMaps, `{"bs":{"true":"t","false":"f"},"nested":{"a":{"ss":{"x":"y"}},"b":{}}}`},
	{zMaps, `{"values":{"a":null,"b":1,"c":"s","d":[true,{}],"e":{"f":null}},"times":{"t":"1970-01-01T00:00:01Z"}}`},
	{zMaps, `{"ii":{"+5":1}}`},
	{zMaps, `{"ii":{"05":1}}`},
	{zMaps, `{"ii":{" 5":1}}`},
	{zMaps, `{"ii":{"1.0":1}}`},
	{zMaps, `{"ii":{"2147483648":1}}`},
	{zMaps, `{"ub":{"-1":true}}`},
	{zMaps, `{"ub":{"+1":true}}`},
	{zMaps, `{"bs":{"True":"t"}}`},
	{zMaps, `{"ii":{"1":1,"1":2}}`},
	{zMaps, `{"ii":{"1":1,"01":2}}`},
	{zMaps, `{"ss":{"a":"1","\u0061":"2"}}`},
	{zMaps, `{"ii":{"1":null}}`},
	{zMaps, `{"sfm":{"1":null}}`},
	{zMaps, `{"values":{"a":null}}`},
	{zMaps, `{"sc":{"1":"NOPE"}}`},
	{zMaps, `{"sc":{"1":"NOPE","1":"RED"}}`},
	{zMaps, `{"ii":[]}`},
	{zMaps, `{"ii":null}`},
	{zMaps, `{"ii":{"1":1,}}`},
	{zMaps, `{"ss":{"k":"` + strings.Repeat("v", 200) + `"}}`},
}

func TestOneofsDiff(t *testing.T) { runCases(t, oneofsCases) }

var oneofsCases = []jsonCase{
	{zOneofs, `{"num":0}`},
	{zOneofs, `{"str":""}`},
	{zOneofs, `{"msg":{}}`},
	{zOneofs, `{"color":"COLOR_UNSPECIFIED"}`},
	{zOneofs, `{"val":null}`},
	{zOneofs, `{"null":null}`},
	{zOneofs, `{"null":"NULL_VALUE"}`},
	{zOneofs, `{"null":0}`},
	{zOneofs, `{"raw":""}`},
	{zOneofs, `{"num":1,"str":"x"}`},
	{zOneofs, `{"num":null,"str":"x"}`},
	{zOneofs, `{"val":null,"str":"x"}`},
	{zOneofs, `{"num":1,"flag":true}`},
	{zOneofs, `{"flag":false,"ratio":0}`},
	{zOneofs, `{"color":"NOPE","num":1}`},
	{zOneofs, `{"optI32":0,"optStr":"","optColor":"COLOR_UNSPECIFIED","optDb":0,"plain":0}`},
	{zOneofs, `{"opt_i32":0,"optI32":1}`},
	{zOneofs, `{"optDb":-0}`},
	{zOneofs, `{"optI32":null}`},
}

const any1 = `{"@type":"type.googleapis.com/strait.codec.zoo.Scalars","i32":5,"s":"x"}`

func TestWellKnownDiff(t *testing.T) { runCases(t, wellKnownCases) }

var wellKnownCases = []jsonCase{
	{zWKT, `{"any":` + any1 + `}`},
	{zWKT, `{"any":{"s":"x","@type":"type.googleapis.com/strait.codec.zoo.Scalars","i32":5}}`},
	{zWKT, `{"any":{"@type":"type.googleapis.com/strait.codec.zoo.Scalars"}}`},
	{zWKT, `{"any":{"@type":"strait.codec.zoo.Scalars"}}`},
	{zWKT, `{"any":{}}`},
	{zWKT, `{"any":{"i32":5}}`},
	{zWKT, `{"any":{"@type":""}}`},
	{zWKT, `{"any":{"@type":1}}`},
	{zWKT, `{"any":{"@type":"x/y","@type":"x/y"}}`},
	{zWKT, `{"any":{"@type":"type.googleapis.com/no.such.Type"}}`},
	{zWKT, `{"any":{"@type":"type.googleapis.com/strait.codec.zoo.Scalars","nope":1}}`},
	{zWKT, `{"any":{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1.5s"}}`},
	{zWKT, `{"any":{"@type":"type.googleapis.com/google.protobuf.Duration"}}`},
	{zWKT, `{"any":{"@type":"type.googleapis.com/google.protobuf.Empty"}}`},
	{zWKT, `{"any":{"@type":"type.googleapis.com/google.protobuf.Empty","value":{}}}`},
	{zWKT, `{"any":{"@type":"type.googleapis.com/google.protobuf.Int32Value","value":0}}`},
	{zWKT, `{"any":{"@type":"type.googleapis.com/google.protobuf.Value","value":{"a":[1,"x",null]}}}`},
	{zWKT, `{"any":{"value":"1s","@type":"type.googleapis.com/google.protobuf.Duration"}}`},
	{zWKT, `{"any":{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1s","value":"2s"}}`},
	{zWKT, `{"any":{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1s","x":1}}`},
	{zWKT, `{"any":{"@type":"type.googleapis.com/google.protobuf.Any","value":` + any1 + `}}`},
	{zWKT, `{"any":{"@type":"type.googleapis.com/strait.codec.zoo.WellKnown","any":` + any1 + `}}`},
	{zWKT, `{"anys":[` + any1 + `,{}]}`},
	{zWKT, `{"any":null}`},
	{zWKT, `{"any":[]}`},
	{zWKT, `{"duration":"0s"}`},
	{zWKT, `{"duration":"-1.000000001s"}`},
	{zWKT, `{"duration":"315576000000.999999999s"}`},
	{zWKT, `{"duration":"315576000001s"}`},
	{zWKT, `{"duration":"1.0000000001s"}`},
	{zWKT, `{"duration":"+1s"}`},
	{zWKT, `{"duration":".5s"}`},
	{zWKT, `{"duration":"1.s"}`},
	{zWKT, `{"duration":"01s"}`},
	{zWKT, `{"duration":"1"}`},
	{zWKT, `{"duration":"s"}`},
	{zWKT, `{"duration":"-.s"}`},
	{zWKT, `{"duration":1}`},
	{zWKT, `{"duration":"-0.5s"}`},
	{zWKT, `{"ts":"1970-01-01T00:00:00Z"}`},
	{zWKT, `{"ts":"2024-02-29T23:59:59.123456789Z"}`},
	{zWKT, `{"ts":"2023-02-29T00:00:00Z"}`},
	{zWKT, `{"ts":"0001-01-01T00:00:00Z"}`},
	{zWKT, `{"ts":"0000-12-31T23:59:59Z"}`},
	{zWKT, `{"ts":"9999-12-31T23:59:59.999999999Z"}`},
	{zWKT, `{"ts":"2024-01-01T00:00:00.1234567891Z"}`},
	{zWKT, `{"ts":"2024-01-01T00:00:00+01:00"}`},
	{zWKT, `{"ts":"2024-01-01T00:00:00.5-08:30"}`},
	{zWKT, `{"ts":"2024-01-01t00:00:00Z"}`},
	{zWKT, `{"ts":"2024-01-01T00:00:60Z"}`},
	{zWKT, `{"ts":"2024-01-01 00:00:00Z"}`},
	{zWKT, `{"ts":"2024-01-01T00:00:00"}`},
	{zWKT, `{"ts":1}`},
	{zWKT, `{"mask":"a,b.cD,eFG"}`},
	{zWKT, `{"mask":""}`},
	{zWKT, `{"mask":"  "}`},
	{zWKT, `{"mask":"a_b"}`},
	{zWKT, `{"mask":"a,,b"}`},
	{zWKT, `{"mask":"1a"}`},
	{zWKT, `{"mask":" a , b "}`},
	{zWKT, `{"mask":"a."}`},
	{zWKT, `{"struct":{"a":1,"b":{"c":[null,true,"x",{"d":{}}]}}}`},
	{zWKT, `{"struct":{}}`},
	{zWKT, `{"struct":[]}`},
	{zWKT, `{"struct":{"a":1,"a":2}}`},
	{zWKT, `{"value":null}`},
	{zWKT, `{"value":1.5}`},
	{zWKT, `{"value":"NaN"}`},
	{zWKT, `{"value":1e400}`},
	{zWKT, `{"value":1e }`},
	{zWKT, `{"value":[]}`},
	{zWKT, `{"value":{}}`},
	{zWKT, `{"value":[[[]]]}`},
	{zWKT, `{"values":[null,1,"a",false,[],{}]}`},
	{zWKT, `{"list":[1,null,{"a":"b"}]}`},
	{zWKT, `{"list":null}`},
	{zWKT, `{"list":{}}`},
	{zWKT, `{"empty":{}}`},
	{zWKT, `{"empty":{"a":1}}`},
	{zWKT, `{"empty":null}`},
	{zWKT, `{"empty":[]}`},
	{zWKT, `{"boolW":false,"i32W":0,"i64W":"0","u32W":0,"u64W":"0","flW":0,"dbW":0,"strW":"","byW":""}`},
	{zWKT, `{"boolW":true,"i32W":-1,"i64W":"-1","u32W":1,"u64W":1,"flW":"NaN","dbW":-0,"strW":"s","byW":"AA=="}`},
	{zWKT, `{"i32W":null}`},
	{zWKT, `{"i32W":{"value":1}}`},
	{zWKT, `{"i32Ws":[1,0,null]}`},
	{zWKT, `{"i32Ws":[1,0]}`},
	{zWKT, `{"null":null}`},
	{zWKT, `{"null":"NULL_VALUE"}`},
	{zWKT, `{"nulls":[null,0,"NULL_VALUE"]}`},
	{zWKT, `{"tss":["1970-01-01T00:00:00Z",null]}`},
}

func TestNestingDiff(t *testing.T) {
	deep := func(n int) string {
		return strings.Repeat(`{"left":`, n) + `{}` + strings.Repeat(`}`, n)
	}
	runCasesWith(t, optionSets[:2], []jsonCase{
		{zNode, deep(9998)},
		{zNode, deep(9999)},
		{zNode, deep(10000)},
		{zNode, `{"unknown":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}`},
		{zNode, `{"unknown":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`},
	})
	runCases(t, []jsonCase{
		{zNode, `{"name":"root","left":{"name":"l"},"right":{"children":[{},{"payload":{"i64":"5"}}]}}`},
		{zNode, deep(50)},
		{zNames, `{"snakeCaseName":1,"renamed":2,"x2y":3,"bigNumber":4,"midNumber":5}`},
		{zNames, `{"snake_case_name":1,"custom":2}`},
		{zNames, `{"snake_case_name":1,"snakeCaseName":2}`},
		{zNames, `{"SnakeCaseName":1}`},
		{zZoo, `{"inner":{"deeper":{"id":"1","tags":["a"]},"color":"RED"},"inners":[{"deeper":{}}]}`},
	})
}

func TestBigMapsDiff(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"ii":{`)
	for i := 0; i < 3000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + strconv.Itoa(i*7919%100003) + `":` + strconv.Itoa(i))
	}
	ok := b.String() + `},"nested":{"a":{"ss":{"x":"1","y":"2"}},"b":{"ss":{"x":"1"}}}}`
	dup := b.String() + `,"0":5}}`
	late := b.String() + `,"` + strconv.Itoa(2999*7919%100003) + `":5}}`
	runCases(t, []jsonCase{{zMaps, ok}, {zMaps, dup}, {zMaps, late}})
}

// TestConformanceMessageDiff runs conformance-suite style inputs through
// TestAllTypesProto3.
func TestConformanceMessageDiff(t *testing.T) { runCases(t, conformanceMessageCases) }

var conformanceMessageCases = []jsonCase{
	{zConf, `{"fieldname1":1,"fieldName2":2,"FieldName3":3,"fieldName4":4,"field0name5":5,"field0Name6":6,"fieldName7":7,"FieldName8":8,"fieldName9":9,"FieldName10":10,"FIELDNAME11":11,"FIELDName12":12,"FieldName13":13,"FieldName14":14,"fieldName15":15,"fieldName16":16,"fieldName17":17,"FieldName18":18}`},
	{zConf, `{"field_name1":1,"field__name4_":4,"Field_Name10":10,"FIELD_NAME11":11}`},
	{zConf, `{"optionalNestedMessage":{"a":1,"corecursive":{"optionalInt32":2,"recursiveMessage":{}}}}`},
	{zConf, `{"oneofUint32":1,"oneofString":"x"}`},
	{zConf, `{"oneofNullValue":null}`},
	{zConf, `{"oneofEnum":"NEG"}`},
	{zConf, `{"optionalNestedEnum":-1,"optionalForeignEnum":"FOREIGN_BAR","optionalAliasedEnum":"ALIAS_BAZ","repeatedNestedEnum":["FOO","BAR",-1]}`},
	{zConf, `{"optionalAliasedEnum":"MOO"}`},
	{zConf, `{"optionalAliasedEnum":"moo"}`},
	{zConf, `{"optionalAliasedEnum":"bAz"}`},
	{zConf, `{"mapInt32Int32":{"1":2,"-3":-4},"mapBoolBool":{"true":false},"mapStringNestedMessage":{"k":{"a":5}}}`},
	{zConf, `{"mapStringBytes":{"a":"AA=="},"mapInt64Int64":{"-9223372036854775808":"9223372036854775807"}}`},
	{zConf, `{"optionalValue":null,"optionalNullValue":null,"repeatedValue":[null,{"a":[]}]}`},
	{zConf, `{"optionalTimestamp":"1970-01-01T00:00:00.000000001Z","optionalDuration":"-0.000000001s"}`},
	{zConf, `{"optionalFieldMask":"fooBar,bazQuux","optionalStruct":{"x":{"y":[1.5]}}}`},
	{zConf, `{"optionalAny":{"@type":"type.googleapis.com/protobuf_test_messages.proto3.TestAllTypesProto3","optionalInt32":12345}}`},
	{zConf, `{"optionalAny":{"@type":"type.googleapis.com/google.protobuf.Value","value":{"k":1}}}`},
	{zConf, `{"optionalBoolWrapper":false,"repeatedInt32Wrapper":[0,1],"optionalStringWrapper":""}`},
	{zConf, `{"repeatedFloat":[1e39]}`},
	{zConf, `{"optionalFloat":-3.4028235e38,"optionalDouble":-1.7976931348623157e308}`},
	{zConf, `{"optionalInt32":"-2147483649"}`},
	{zConf, `{"optionalUint64":"-1"}`},
	{zConf, `{"optionalBytes":"-_8"}`},
	{zConf, `{"packedInt32":[1,2],"unpackedInt32":[3,4],"packedEnum":["BAZ"]}`},
}

func TestProto2Diff(t *testing.T) { runCases(t, proto2Cases) }

var proto2Cases = []jsonCase{
	{zConf2, `{"[protobuf_test_messages.proto2.extension_int32]":5,"optionalInt32":0}`},
	{zConf2, `{"[protobuf_test_messages.proto2.extension_int32]":5,"[protobuf_test_messages.proto2.extension_int32]":6}`},
	{zConf2, `{"[protobuf_test_messages.proto2.no_such_ext]":5}`},
	{zConf2, `{"[protobuf_test_messages.proto2.extension_int32]":"x"}`},
	{zConf2, `{"data":{"groupInt32":1,"groupUint32":2}}`},
	{zConf2, `{"Data":{"group_int32":1}}`},
	{zConf2, `{"data":{"groupInt32":1},"data":{}}`},
	{zConf2, `{"data":null}`},
	{zConf2, `{"optionalNestedEnum":77,"repeatedNestedEnum":[1,77,"BAZ"]}`},
	{zConf2, `{"optionalString":"","optionalBool":false,"optionalDouble":0}`},
	{zConf2, `{"defaultInt32":0,"defaultString":""}`},
	{zConfReq, `{}`},
	{zConfReq, `{"requiredInt32":1}`},
}
