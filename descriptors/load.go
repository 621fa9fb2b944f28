package descriptors

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/straitgw/strait/transcode"
)

// ErrNone reports a Source that names no descriptors at all.
var ErrNone = errors.New("descriptors: none given")

// Source says where descriptors come from. Each is read or reflected once.
type Source struct {
	Files   []string   // FileDescriptorSet files (protoc --include_imports)
	Sets    [][]byte   // serialized FileDescriptorSets
	Reflect []Upstream // upstreams asked through server reflection
	// Timeout bounds the reflection of one endpoint; zero leaves it to ctx.
	Timeout time.Duration
}

// Upstream is one upstream to reflect: its endpoints are asked in turn
// until one answers, over h2c, or over TLS when TLS is set (grpc-go's
// credentials: the same CA, client certificate and server name as the
// gateway's own connections).
type Upstream struct {
	Name      string
	Endpoints []string
	TLS       *tls.Config
}

// Load reads every file, reflects every upstream and merges the sets into
// one registry (transcode.LoadDescriptorSets: a file in several sets must
// be the same in each). An error names the file or upstream at fault.
func Load(ctx context.Context, src Source) (*protoregistry.Files, error) {
	sets := append([][]byte(nil), src.Sets...)
	names := make([]string, len(sets))
	for i := range sets {
		names[i] = "descriptor set " + strconv.Itoa(i)
	}
	for _, f := range src.Files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err // *fs.PathError names the file
		}
		sets, names = append(sets, b), append(names, f)
	}
	for _, u := range src.Reflect {
		b, err := reflectUpstream(ctx, u, src.Timeout)
		if err != nil {
			return nil, fmt.Errorf("upstream %q: reflection: %w", u.Name, err)
		}
		sets, names = append(sets, b), append(names, fmt.Sprintf("upstream %q (reflection)", u.Name))
	}
	if len(sets) == 0 {
		return nil, ErrNone
	}
	return merge(sets, names)
}

// merge builds the registry in one pass; only when that fails does it load
// each set alone, to name the one at fault.
func merge(sets [][]byte, names []string) (*protoregistry.Files, error) {
	files, err := transcode.LoadDescriptorSets(sets...)
	if err == nil {
		return files, nil
	}
	for i, b := range sets {
		if _, e := transcode.LoadDescriptorSets(b); e != nil {
			return nil, fmt.Errorf("%s: %w", names[i], e)
		}
	}
	return nil, fmt.Errorf("descriptors: %w", err) // the sets disagree
}

// reflectUpstream asks the endpoints in turn until one answers, and
// returns its files as a serialized FileDescriptorSet.
func reflectUpstream(ctx context.Context, u Upstream, timeout time.Duration) ([]byte, error) {
	err := errors.New("no endpoints")
	for _, ep := range u.Endpoints {
		var b []byte
		if b, err = reflectEndpoint(ctx, ep, u.TLS, timeout); err == nil {
			return b, nil
		}
	}
	return nil, err
}

func reflectEndpoint(ctx context.Context, addr string, tc *tls.Config, timeout time.Duration) ([]byte, error) {
	creds := insecure.NewCredentials()
	if tc != nil {
		creds = credentials.NewTLS(tc)
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, err
	}
	defer cc.Close()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	set, err := Reflect(ctx, cc)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(set)
}
