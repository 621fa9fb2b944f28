// Package upstream owns the gateway's gRPC backends: endpoints, pools of
// multiplexed HTTP/2 client connections on netpoll, load balancing and
// draining on GOAWAY. It may import h2 but never engine or transcode.
package upstream
