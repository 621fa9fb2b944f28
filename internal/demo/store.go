package demo

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// store is the in-memory bookstore. Every message it hands out is a clone,
// so callers never share state with it.
type store struct {
	mu        sync.Mutex
	shelves   map[int64]*shelf
	lastShelf int64 // ids are never reused, even after a delete
	lastBook  int64
}

// shelf is one Shelf message and its books by id.
type shelf struct {
	msg   *dynamicpb.Message
	books map[int64]*dynamicpb.Message
}

// newStore returns a store seeded with two shelves and three books.
func newStore() *store {
	s := &store{shelves: make(map[int64]*shelf)}
	now := time.Now()
	fiction := s.addShelf("Fiction", now)
	science := s.addShelf("Science", now)
	s.addBook(fiction, seedBook("Ursula K. Le Guin", "The Left Hand of Darkness", 1, 304, "classic"), now)
	dune := s.addBook(fiction, seedBook("Frank Herbert", "Dune", 1, 412, "classic", "desert"), now)
	pub := dune.Mutable(field(dune, "publication")).Message()
	setStr(pub, "publisher", "Chilton Books")
	set(pub, "edition", protoreflect.ValueOfInt32(1))
	setTime(pub, "publish_time", time.Date(1965, 8, 1, 0, 0, 0, 0, time.UTC))
	s.addBook(science, seedBook("Stephen Hawking", "A Brief History of Time", 2, 256), now)
	return s
}

// seedBook builds a Book for newStore.
func seedBook(author, title string, genre protoreflect.EnumNumber, pages uint32, tags ...string) *dynamicpb.Message {
	b := newMsg("bookstore.v1.Book")
	setStr(b, "author", author)
	setStr(b, "title", title)
	set(b, "genre", protoreflect.ValueOfEnum(genre))
	set(b, "pages", protoreflect.ValueOfUint32(pages))
	for _, t := range tags {
		b.Mutable(field(b, "tags")).List().Append(protoreflect.ValueOfString(t))
	}
	b.Mutable(field(b, "labels")).Map().Set(protoreflect.ValueOfString("language").MapKey(), protoreflect.ValueOfString("en"))
	return b
}

// addShelf stores a new shelf; the caller holds mu or owns s.
func (s *store) addShelf(theme string, now time.Time) *shelf {
	s.lastShelf++
	m := newMsg("bookstore.v1.Shelf")
	setInt(m, "id", s.lastShelf)
	setStr(m, "theme", theme)
	setTime(m, "create_time", now)
	sh := &shelf{msg: m, books: make(map[int64]*dynamicpb.Message)}
	s.shelves[s.lastShelf] = sh
	return sh
}

// addBook stores b (taking ownership) with a fresh id; the caller holds mu.
func (s *store) addBook(sh *shelf, b *dynamicpb.Message, now time.Time) *dynamicpb.Message {
	s.lastBook++
	setInt(b, "id", s.lastBook)
	setTime(b, "create_time", now)
	sh.books[s.lastBook] = b
	return b
}

// shelfOf finds the shelf named by req's "shelf" field; the caller holds mu.
func (s *store) shelfOf(req protoreflect.Message) (*shelf, error) {
	id := getInt(req, "shelf")
	if id <= 0 {
		return nil, status.Errorf(codes.InvalidArgument, "shelf id must be a positive integer, got %d", id)
	}
	sh := s.shelves[id]
	if sh == nil {
		return nil, status.Errorf(codes.NotFound, "shelf %d not found (GET /v1/shelves lists the shelves)", id)
	}
	return sh, nil
}

// sortedBooks returns a shelf's books in id order; the caller holds mu.
func (sh *shelf) sortedBooks() []*dynamicpb.Message {
	ids := slices.Sorted(maps.Keys(sh.books))
	out := make([]*dynamicpb.Message, len(ids))
	for i, id := range ids {
		out[i] = sh.books[id]
	}
	return out
}

func (s *store) listShelves(_ context.Context, _ protoreflect.Message) (proto.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := newMsg("bookstore.v1.ListShelvesResponse")
	for _, id := range slices.Sorted(maps.Keys(s.shelves)) {
		appendList(resp, "shelves", proto.Clone(s.shelves[id].msg).ProtoReflect())
	}
	return resp, nil
}

func (s *store) createShelf(_ context.Context, req protoreflect.Message) (proto.Message, error) {
	if !has(req, "shelf") {
		return nil, status.Error(codes.InvalidArgument, "shelf is required")
	}
	in := getMsg(req, "shelf")
	theme := strings.TrimSpace(getStr(in, "theme"))
	if theme == "" {
		return nil, status.Error(codes.InvalidArgument, "shelf.theme is required")
	}
	if getInt(in, "id") != 0 {
		return nil, status.Error(codes.InvalidArgument, "shelf.id is assigned by the server; leave it unset")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, sh := range s.shelves {
		if strings.EqualFold(getStr(sh.msg, "theme"), theme) {
			return nil, status.Errorf(codes.AlreadyExists, "shelf %d already has the theme %q", id, theme)
		}
	}
	return proto.Clone(s.addShelf(theme, time.Now()).msg), nil
}

func (s *store) getShelf(_ context.Context, req protoreflect.Message) (proto.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, err := s.shelfOf(req)
	if err != nil {
		return nil, err
	}
	return proto.Clone(sh.msg), nil
}

func (s *store) deleteShelf(_ context.Context, req protoreflect.Message) (proto.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.shelfOf(req); err != nil {
		return nil, err
	}
	delete(s.shelves, getInt(req, "shelf"))
	return newMsg("google.protobuf.Empty"), nil
}
