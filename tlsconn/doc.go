// Package tlsconn serves TLS on strait's netpoll codecs. netpoll has no
// TLS, so a Conn implements netpoll.Connection over a crypto/tls
// connection: a goroutine per connection reads and decrypts into a
// netpoll LinkBuffer and runs the connection's OnRequest; a Flush
// encrypts on its caller and hands the ciphertext to the kernel without
// waiting (what the kernel does not take now is sent by a goroutine of
// the connection's own), so no write waits for a client. The engine's
// HTTP/1.1 and HTTP/2 code runs on it unchanged.
//
// It also holds what TLS needs around the connection: the listener's
// certificates chosen by SNI and swapped atomically on reload (Server),
// upstream client configurations (Client), and the verified client
// identity with its x-forwarded-client-cert rendering (Identity).
//
// It imports nothing of strait's but internal packages without strait
// dependencies: not engine, upstream, h2, transcode or descriptors.
package tlsconn
