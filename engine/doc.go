// Package engine wires strait together: netpoll listeners and protocol
// sniffing, the HTTP/1.1 codec, routing, transcoding and the upstream pools.
// Reading this package is enough to follow a request end to end.
package engine
