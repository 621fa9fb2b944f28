// Package payload builds the deterministic benchmark messages (~64 B, ~1 KB,
// ~16 KB on the wire) and their JSON and gRPC-framed encodings.
// It imports only the generated bench code and protobuf.
package payload

import (
	"encoding/binary"
	"fmt"

	benchv1 "github.com/straitgw/strait/perf/gen/benchv1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Tenant is the path variable every REST request binds.
const Tenant = "acme-eu-1"

// StreamCount is the number of records a ListRecords call streams.
const StreamCount = 10

// Ping is the small message.
func Ping() *benchv1.PingRequest {
	return &benchv1.PingRequest{Id: 4242424242, Name: "ping-small-request-from-client-0001", Status: benchv1.Status_STATUS_ACTIVE, SentUnixNanos: 1763900000123456789}
}

// Record returns the ~1 KB record number i: nested addresses, repeated
// items with enums and tags, int64s (which JSON carries as strings).
func Record(i int) *benchv1.Record {
	r := &benchv1.Record{
		Id: 9000000000 + int64(i), Tenant: Tenant,
		Name:   fmt.Sprintf("Customer %04d Example-Holdings", i),
		Email:  fmt.Sprintf("customer.%04d@example-holdings.test", i),
		Status: benchv1.Status_STATUS_ACTIVE, Verified: i%2 == 0, Balance: 12345.67 + float64(i),
		CreatedUnix: 1700000000 + int64(i), UpdatedUnix: 1763900000 + int64(i),
		Note:     "priority customer; deliver before noon, call ahead",
		Billing:  &benchv1.Address{Street: "221B Baker Street", City: "London", Region: "Greater London", PostalCode: "NW1 6XE", Country: "GB"},
		Shipping: &benchv1.Address{Street: "1600 Amphitheatre Parkway", City: "Mountain View", Region: "CA", PostalCode: "94043", Country: "US"},
	}
	for j := range 8 {
		r.Items = append(r.Items, &benchv1.Item{
			Id: 1000000 + int64(j), Sku: fmt.Sprintf("SKU-%06d-%02d", i, j), Title: fmt.Sprintf("Widget model %d, anodised", j),
			Quantity: int32(j + 1), PriceMicros: 19990000 + int64(j)*1000, Kind: benchv1.Kind(j%3 + 1),
			Tags: []string{"new", "sale", fmt.Sprintf("bin-%d", j)},
		})
	}
	for j := range 12 {
		r.Scores = append(r.Scores, int64(j)*7919+int64(i))
	}
	return r
}

// PutRecord is the headline request.
func PutRecord() *benchv1.PutRecordRequest {
	return &benchv1.PutRecordRequest{Tenant: Tenant, Record: Record(1)}
}

// Batch is the large message: 16 records.
func Batch() *benchv1.Batch {
	b := &benchv1.Batch{BatchId: "batch-2026-11-23-0001"}
	for i := range 16 {
		b.Records = append(b.Records, Record(i))
	}
	return b
}

// ListRecords is the streaming request.
func ListRecords() *benchv1.ListRecordsRequest {
	return &benchv1.ListRecordsRequest{Tenant: Tenant, Count: StreamCount}
}

// JSON is protojson with the default options, as every peer emits it.
func JSON(m proto.Message) []byte {
	b, err := protojson.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// Wire is the deterministic protobuf encoding of m.
func Wire(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// Frame prefixes m's wire bytes with the 5-byte gRPC message header.
func Frame(m proto.Message) []byte {
	w := Wire(m)
	out := make([]byte, 5, 5+len(w))
	binary.BigEndian.PutUint32(out[1:], uint32(len(w)))
	return append(out, w...)
}
