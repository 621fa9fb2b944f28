package engine

import "github.com/straitgw/strait/tlsconn"

// identityName is a verified client certificate as one string, for
// filters (filter.Request.Identity: a rate limit's key, say): its first
// URI SAN (a SPIFFE ID, say), else its first DNS SAN, else its subject.
// Names survive a certificate's renewal where its hash would not. ""
// without a certificate.
func identityName(id *tlsconn.Identity) string {
	switch {
	case id == nil:
		return ""
	case len(id.URIs) > 0:
		return id.URIs[0]
	case len(id.DNS) > 0:
		return id.DNS[0]
	}
	return id.Subject
}
