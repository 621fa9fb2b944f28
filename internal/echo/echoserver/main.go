// Command echoserver runs the echo upstream of internal/echo as a process
// of its own, for end-to-end tests that must signal a backend: SIGKILL,
// SIGSTOP, or SIGTERM for a graceful stop (GOAWAY). It is a test tool and
// imports nothing of strait but internal/echo and its generated code.
//
//	echoserver [-listen 127.0.0.1:0]
//
// It prints "listening ADDR" once it accepts, "+conn REMOTE" for each
// connection it accepts, and the x-req-id of every call it receives, one
// a line, the moment the call's headers arrive and before any handler
// runs. Each line is its own write(2), so a line
// printed survives the process being killed: a test reading the output to
// EOF knows every request this backend saw. SIGTERM stops gracefully
// (grpc-go GracefulStop: GOAWAY, calls in flight finish) and exits 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/tap"

	"github.com/straitgw/strait/internal/echo"
	pb "github.com/straitgw/strait/internal/echopb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echoserver:", err)
		os.Exit(1)
	}
	var out sync.Mutex
	line := func(s string) {
		out.Lock()
		defer out.Unlock()
		_, _ = os.Stdout.WriteString(s + "\n")
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(64<<20), grpc.MaxSendMsgSize(64<<20),
		grpc.InTapHandle(func(ctx context.Context, info *tap.Info) (context.Context, error) {
			if ids := info.Header.Get(echo.RequestIDKey); len(ids) > 0 {
				line(ids[0])
			}
			return ctx, nil
		}))
	s := echo.New()
	pb.RegisterEchoServer(srv, s)
	go forget(s)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		srv.GracefulStop()
	}()
	line("listening " + ln.Addr().String())
	if err := srv.Serve(&announcer{ln, line}); err != nil {
		fmt.Fprintln(os.Stderr, "echoserver:", err)
		os.Exit(1)
	}
}

// forget drops the records echo keeps of each call for in-process tests:
// nothing here takes them, and a long run would pile them up.
func forget(s *echo.Server) {
	for {
		time.Sleep(500 * time.Millisecond)
		for _, p := range s.PendingIDs() {
			id, _, _ := strings.Cut(p, " ")
			s.Take(id, 0)
		}
	}
}

// announcer prints each connection it accepts.
type announcer struct {
	net.Listener
	line func(string)
}

func (a *announcer) Accept() (net.Conn, error) {
	c, err := a.Listener.Accept()
	if err == nil {
		a.line("+conn " + c.RemoteAddr().String())
	}
	return c, err
}
