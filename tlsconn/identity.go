package tlsconn

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
)

// Identity is a client's verified certificate, as a connection keeps it
// for the gateway (routing, rate limits) and for its upstreams
// (x-forwarded-client-cert).
type Identity struct {
	Leaf    *x509.Certificate
	Chains  [][]*x509.Certificate // verified chains (restored on resumption)
	Hash    string                // hex SHA-256 of the leaf's DER
	Subject string                // the leaf's subject, RFC 2253 form
	URIs    []string              // URI SANs
	DNS     []string              // DNS SANs
	By      []string              // URI SANs of the gateway's own certificate
	xfcc    string
}

func newIdentity(st tls.ConnectionState, own *x509.Certificate) *Identity {
	leaf := st.PeerCertificates[0]
	sum := sha256.Sum256(leaf.Raw)
	id := &Identity{Leaf: leaf, Chains: st.VerifiedChains, Hash: hex.EncodeToString(sum[:]),
		Subject: leaf.Subject.String(), DNS: leaf.DNSNames}
	for _, u := range leaf.URIs {
		id.URIs = append(id.URIs, u.String())
	}
	if own != nil {
		for _, u := range own.URIs {
			id.By = append(id.By, u.String())
		}
	}
	id.xfcc = string(AppendXFCC(nil, id))
	return id
}

// XFCC is the identity as one x-forwarded-client-cert element (computed
// once per connection).
func (id *Identity) XFCC() string {
	if id == nil {
		return ""
	}
	if id.xfcc == "" {
		id.xfcc = string(AppendXFCC(nil, id))
	}
	return id.xfcc
}

// AppendXFCC appends id as one element of Envoy's x-forwarded-client-cert
// header: By (one per URI SAN of the gateway's certificate), Hash,
// Subject (always quoted), URI and DNS (one pair per SAN), separated by
// ';'. A value holding ',', ';', '=', '"', '\\' or a byte outside
// printable ASCII is double-quoted, with '"' and '\\' escaped by a
// backslash and other bytes as \xHH: the header is printable ASCII
// whatever the certificate holds, so every upstream accepts it.
func AppendXFCC(dst []byte, id *Identity) []byte {
	first := true
	pair := func(key, v string, quote bool) {
		if !first {
			dst = append(dst, ';')
		}
		first = false
		dst = append(dst, key...)
		dst = append(dst, '=')
		dst = appendValue(dst, v, quote)
	}
	for _, b := range id.By {
		pair("By", b, false)
	}
	pair("Hash", id.Hash, false)
	pair("Subject", id.Subject, true)
	for _, u := range id.URIs {
		pair("URI", u, false)
	}
	for _, d := range id.DNS {
		pair("DNS", d, false)
	}
	return dst
}

const hexDigits = "0123456789abcdef"

func appendValue(dst []byte, v string, quote bool) []byte {
	if !quote && !needsQuote(v) {
		return append(dst, v...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20 || c > 0x7e:
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

func needsQuote(v string) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == ',' || c == ';' || c == '=' || c == '"' || c == '\\', c < 0x20 || c > 0x7e:
			return true
		}
	}
	return false
}
