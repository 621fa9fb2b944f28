package transcode

import (
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	_ "google.golang.org/protobuf/types/known/anypb" // registers any.proto (alwaysFiles)
)

// Options tune the JSON mapping of every plan of a Schema. The zero value
// behaves like protojson's defaults.
type Options struct {
	DiscardUnknown  bool // ignore unknown JSON fields and enum names instead of failing
	MaxDepth        int  // message nesting limit in both directions; 0 means protowire.DefaultRecursionLimit
	EmitUnpopulated bool // write unset fields with their zero value (null for messages)
	UseProtoNames   bool // write proto field names instead of lowerCamelCase JSON names
	UseEnumNumbers  bool // write enum values as numbers
}

// ErrDescriptor reports descriptors that cannot be loaded or compiled.
var ErrDescriptor = errors.New("transcode: bad descriptor")

// Schema holds the immutable compiled plans of every message of a set of
// files. It is safe for concurrent use; build it once at startup.
type Schema struct {
	opts  Options
	files *protoregistry.Files
	plans map[protoreflect.FullName]*Plan
	pool  sync.Pool    // *codecState, reused by every call
	seed  maphash.Seed // for map key indexes
	exts  map[protoreflect.FullName][]protoreflect.FieldDescriptor
	enums map[protoreflect.FullName]*enumPlan // filled by NewSchema only
	known map[protoreflect.FullName]bool      // every extension's full name
}

// LoadDescriptorSets merges serialized FileDescriptorSets into one registry.
// A file present in several sets must be identical in each; the
// well-known types and google/api annotations are taken from the sets when
// present, else from the Go registry.
func LoadDescriptorSets(sets ...[]byte) (*protoregistry.Files, error) {
	merged := &descriptorpb.FileDescriptorSet{}
	seen := map[string][]byte{}
	for i, raw := range sets {
		var set descriptorpb.FileDescriptorSet
		if err := proto.Unmarshal(raw, &set); err != nil {
			return nil, fmt.Errorf("%w: set %d: %v", ErrDescriptor, i, err)
		}
		for _, fd := range set.File {
			b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(fd)
			if prev, ok := seen[fd.GetName()]; ok {
				if string(prev) != string(b) {
					return nil, fmt.Errorf("%w: %s differs between sets", ErrDescriptor, fd.GetName())
				}
				continue
			}
			seen[fd.GetName()] = b
			merged.File = append(merged.File, fd)
		}
	}
	files, err := protodesc.FileOptions{AllowUnresolvable: false}.NewFiles(withGlobalDeps(merged, seen))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDescriptor, err)
	}
	return files, nil
}

// alwaysFiles are loaded whether or not the sets import them: error details
// are google.protobuf.Any, which every REST error body renders.
var alwaysFiles = []string{"google/protobuf/any.proto"}

// withGlobalDeps adds the files that sets import but do not carry (usually
// the well-known types) from the Go registry, so that protoc output made
// without --include_imports still loads.
func withGlobalDeps(set *descriptorpb.FileDescriptorSet, have map[string][]byte) *descriptorpb.FileDescriptorSet {
	var add func(path string)
	add = func(path string) {
		if _, ok := have[path]; ok {
			return
		}
		fd, err := protoregistry.GlobalFiles.FindFileByPath(path)
		if err != nil {
			return // reported by NewFiles as unresolvable
		}
		have[path] = nil
		imps := fd.Imports()
		for i := 0; i < imps.Len(); i++ {
			add(imps.Get(i).Path())
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	for _, f := range append([]*descriptorpb.FileDescriptorProto(nil), set.File...) {
		for _, dep := range f.Dependency {
			add(dep)
		}
	}
	for _, path := range alwaysFiles {
		add(path)
	}
	return set
}

// NewSchema compiles a plan for every message declared in files (nested
// messages and map entries included).
func NewSchema(files *protoregistry.Files, opts Options) (*Schema, error) {
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = protowire.DefaultRecursionLimit
	}
	s := &Schema{opts: opts, files: files, plans: map[protoreflect.FullName]*Plan{},
		enums: map[protoreflect.FullName]*enumPlan{}, seed: maphash.MakeSeed()}
	s.pool.New = func() any { return new(codecState) }
	var all []protoreflect.MessageDescriptor
	var walk func(ms protoreflect.MessageDescriptors)
	walk = func(ms protoreflect.MessageDescriptors) {
		for i := 0; i < ms.Len(); i++ {
			md := ms.Get(i)
			all = append(all, md)
			walk(md.Messages())
		}
	}
	s.exts = map[protoreflect.FullName][]protoreflect.FieldDescriptor{}
	var walkExts func(xs protoreflect.ExtensionDescriptors, ms protoreflect.MessageDescriptors)
	walkExts = func(xs protoreflect.ExtensionDescriptors, ms protoreflect.MessageDescriptors) {
		for i := 0; i < xs.Len(); i++ {
			x := xs.Get(i)
			s.exts[x.ContainingMessage().FullName()] = append(s.exts[x.ContainingMessage().FullName()], x)
		}
		for i := 0; i < ms.Len(); i++ {
			walkExts(ms.Get(i).Extensions(), ms.Get(i).Messages())
		}
	}
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		walk(fd.Messages())
		walkExts(fd.Extensions(), fd.Messages())
		return true
	})
	s.known = map[protoreflect.FullName]bool{}
	for _, xs := range s.exts {
		for _, x := range xs {
			s.known[x.FullName()] = true
		}
		slices.SortFunc(xs, func(a, b protoreflect.FieldDescriptor) int {
			return strings.Compare(string(a.FullName()), string(b.FullName()))
		})
	}
	for _, md := range all {
		s.plans[md.FullName()] = &Plan{s: s, md: md}
	}
	for _, md := range all {
		if err := s.plans[md.FullName()].compile(); err != nil {
			return nil, err
		}
	}
	for _, p := range s.plans {
		if err := p.link(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Plan returns the compiled plan of the named message, or nil if unknown.
func (s *Schema) Plan(name protoreflect.FullName) *Plan { return s.plans[name] }

// Files returns the registry the schema was compiled from.
func (s *Schema) Files() *protoregistry.Files { return s.files }

// planByURL resolves an Any type URL the way protoregistry does: the name
// after the last '/'. Converting b in the map index does not allocate.
func (s *Schema) planByURL(url []byte) *Plan {
	for i := len(url) - 1; i >= 0; i-- {
		if url[i] == '/' {
			url = url[i+1:]
			break
		}
	}
	return s.plans[protoreflect.FullName(url)]
}

func (s *Schema) getState() *codecState {
	st := s.pool.Get().(*codecState)
	st.s = s
	return st
}

func (s *Schema) putState(st *codecState) {
	if cap(st.tmp) > 1<<20 || cap(st.ents) > 1<<16 || cap(st.keys) > 1<<16 ||
		cap(st.khash) > 1<<17 || cap(st.items) > 1<<14 || cap(st.seen) > 1<<12 {
		return // one giant request must not pin its scratch for good
	}
	st.reset()
	s.pool.Put(st)
}
