package transcode

import (
	"math"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// emitWKT writes the special JSON form of a well-known type.
func (e *codecState) emitWKT(p *Plan, b []byte) error {
	switch p.wkt {
	case wktEmpty:
		if _, _, _, err := e.collect(p, b); err != nil {
			return err
		}
		e.dst = append(e.dst, '{', '}')
		return nil
	case wktTimestamp, wktDuration:
		return e.emitTime(p, b)
	case wktAny:
		return e.emitAny(p, b)
	}
	base, n, cbase, err := e.collect(p, b)
	defer e.pop(base, cbase)
	if err != nil {
		return err
	}
	switch p.wkt {
	case wktWrapper, wktStruct, wktListValue:
		f := &p.fields[0]
		if n == 0 {
			e.emitZero(f)
			return nil
		}
		return e.emitValue(f, b, base, base+n)
	case wktFieldMask:
		return e.emitFieldMask(b, base, base+n)
	}
	return e.emitKnownValue(p, b, base, n, cbase)
}

// emitKnownValue writes a google.protobuf.Value: the member of its kind
// oneof set last. An unset kind and non-finite numbers have no JSON form.
func (e *codecState) emitKnownValue(p *Plan, b []byte, base, n, cbase int) error {
	win := e.cnt[cbase]
	if win < 0 {
		return ErrOutput
	}
	f := &p.fields[win]
	lo, hi := base, base+n
	for lo < hi && e.ents[lo].idx != win {
		lo++
	}
	for hi > lo && e.ents[hi-1].idx != win {
		hi--
	}
	lo = e.oneofRun(cbase, f, int(win), lo, hi)
	if f.kind == protoreflect.DoubleKind {
		ent := e.ents[hi-1]
		v := math.Float64frombits(wireBits(ent.wt, b[ent.start:ent.end]))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return ErrOutput
		}
	}
	return e.emitValue(f, b, lo, hi)
}

// lastScalar returns the bits of the last occurrence of field num with wire
// type wt in b.
func lastScalar(b []byte, want protowire.Number, wantWT protowire.Type) (uint64, error) {
	var v uint64
	for len(b) > 0 {
		num, wt, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, ErrWire
		}
		b = b[n:]
		vn := protowire.ConsumeFieldValue(num, wt, b)
		if vn < 0 {
			return 0, ErrWire
		}
		if num == want && wt == wantWT {
			v = wireBits(wt, b[:vn])
		}
		b = b[vn:]
	}
	return v, nil
}

func (e *codecState) emitTime(p *Plan, b []byte) error {
	sv, err := lastScalar(b, 1, protowire.VarintType)
	if err != nil {
		return err
	}
	nv, err := lastScalar(b, 2, protowire.VarintType)
	if err != nil {
		return err
	}
	secs, nanos := int64(sv), int64(int32(nv))
	if p.wkt == wktTimestamp {
		if secs < codecMinTimestampSecs || secs > codecMaxTimestampSecs || nanos < 0 || nanos > 999999999 {
			return ErrOutput
		}
		e.dst = append(e.dst, '"')
		e.dst = time.Unix(secs, 0).UTC().AppendFormat(e.dst, "2006-01-02T15:04:05")
		e.dst = appendNanos(e.dst, nanos)
		e.dst = append(e.dst, 'Z', '"')
		return nil
	}
	if secs < -codecMaxDurationSecs || secs > codecMaxDurationSecs || nanos < -999999999 || nanos > 999999999 ||
		(secs > 0 && nanos < 0) || (secs < 0 && nanos > 0) {
		return ErrOutput
	}
	e.dst = append(e.dst, '"')
	if secs < 0 || nanos < 0 {
		e.dst = append(e.dst, '-')
		secs, nanos = -secs, -nanos
	}
	e.dst = strconv.AppendInt(e.dst, secs, 10)
	e.dst = appendNanos(e.dst, nanos)
	e.dst = append(e.dst, 's', '"')
	return nil
}

// appendNanos writes ".fff", ".ffffff" or ".fffffffff", or nothing for 0.
func appendNanos(dst []byte, nanos int64) []byte {
	if nanos == 0 {
		return dst
	}
	var buf [10]byte
	buf[0] = '.'
	for i := 9; i >= 1; i-- {
		buf[i] = byte('0' + nanos%10)
		nanos /= 10
	}
	n := 10
	for n > 4 && string(buf[n-3:n]) == "000" {
		n -= 3
	}
	return append(dst, buf[:n]...)
}

// emitFieldMask writes paths as lowerCamelCase joined by commas; a path
// that does not survive the round trip has no JSON form.
func (e *codecState) emitFieldMask(b []byte, lo, hi int) error {
	e.dst = append(e.dst, '"')
	for q := lo; q < hi; q++ {
		s := b[e.ents[q].start:e.ents[q].end]
		if !protoreflect.FullName(bytesView(s)).IsValid() {
			return ErrOutput
		}
		if q > lo {
			e.dst = append(e.dst, ',')
		}
		under := false
		for _, c := range s {
			if c == '_' {
				if under {
					return ErrOutput // "a__b" does not round-trip
				}
				under = true
				continue
			}
			if under {
				if c < 'a' || c > 'z' {
					return ErrOutput
				}
				c -= 'a' - 'A'
			} else if 'A' <= c && c <= 'Z' {
				return ErrOutput
			}
			under = false
			e.dst = append(e.dst, c)
		}
		if under {
			return ErrOutput
		}
	}
	e.dst = append(e.dst, '"')
	return nil
}
