package demo

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// newMsg makes an empty dynamic message of a type in the embedded files.
func newMsg(name protoreflect.FullName) *dynamicpb.Message {
	d, err := files().FindDescriptorByName(name)
	if err != nil {
		panic(fmt.Sprintf("demo: %v", err))
	}
	return dynamicpb.NewMessage(d.(protoreflect.MessageDescriptor))
}

// field finds a field by its proto name. The names are fixed by the embedded
// descriptors, so a miss is a defect the tests catch, not a runtime error.
func field(m protoreflect.Message, name protoreflect.Name) protoreflect.FieldDescriptor {
	fd := m.Descriptor().Fields().ByName(name)
	if fd == nil {
		panic(fmt.Sprintf("demo: %s has no field %s", m.Descriptor().FullName(), name))
	}
	return fd
}

func getInt(m protoreflect.Message, name protoreflect.Name) int64 {
	return m.Get(field(m, name)).Int()
}

func getStr(m protoreflect.Message, name protoreflect.Name) string {
	return m.Get(field(m, name)).String()
}

func getMsg(m protoreflect.Message, name protoreflect.Name) protoreflect.Message {
	return m.Get(field(m, name)).Message()
}

func has(m protoreflect.Message, name protoreflect.Name) bool {
	return m.Has(field(m, name))
}

func set(m protoreflect.Message, name protoreflect.Name, v protoreflect.Value) {
	m.Set(field(m, name), v)
}

func setInt(m protoreflect.Message, name protoreflect.Name, v int64) {
	set(m, name, protoreflect.ValueOfInt64(v))
}

func setStr(m protoreflect.Message, name protoreflect.Name, v string) {
	set(m, name, protoreflect.ValueOfString(v))
}

// setTime fills a google.protobuf.Timestamp field in place, so the value
// keeps the message type of the embedded files.
func setTime(m protoreflect.Message, name protoreflect.Name, t time.Time) {
	ts := m.Mutable(field(m, name)).Message()
	setInt(ts, "seconds", t.Unix())
	set(ts, "nanos", protoreflect.ValueOfInt32(int32(t.Nanosecond())))
}

// getDuration reads a google.protobuf.Duration field.
func getDuration(m protoreflect.Message, name protoreflect.Name) time.Duration {
	d := getMsg(m, name)
	return time.Duration(getInt(d, "seconds"))*time.Second + time.Duration(d.Get(field(d, "nanos")).Int())
}

// appendList appends a message to a repeated message field.
func appendList(m protoreflect.Message, name protoreflect.Name, v protoreflect.Message) {
	m.Mutable(field(m, name)).List().Append(protoreflect.ValueOfMessage(v))
}
