package demo

import (
	"context"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// maxWatchInterval bounds WatchBooks pacing so a stream always ends soon.
const maxWatchInterval = time.Second

// updatable lists the Book fields UpdateBook may change.
var updatable = map[string]bool{"author": true, "title": true, "genre": true, "tags": true, "pages": true, "labels": true}

// bookOf finds the book named by req's "book" field on sh; the caller holds mu.
func bookOf(sh *shelf, id int64) (*dynamicpb.Message, error) {
	if id <= 0 {
		return nil, status.Errorf(codes.InvalidArgument, "book id must be a positive integer, got %d", id)
	}
	b := sh.books[id]
	if b == nil {
		return nil, status.Errorf(codes.NotFound, "book %d not found on shelf %d", id, getInt(sh.msg, "id"))
	}
	return b, nil
}

// checkBook validates the client-settable fields of a new book.
func checkBook(b protoreflect.Message) error {
	switch {
	case strings.TrimSpace(getStr(b, "title")) == "":
		return status.Error(codes.InvalidArgument, "book.title is required")
	case getInt(b, "id") != 0:
		return status.Error(codes.InvalidArgument, "book.id is assigned by the server; leave it unset")
	case has(b, "publication"):
		return status.Error(codes.InvalidArgument, "book.publication is set by PublishBook; leave it unset")
	}
	return checkGenre(b)
}

// checkGenre rejects enum numbers the Genre enum does not define (proto3
// enums are open, so they decode fine).
func checkGenre(b protoreflect.Message) error {
	fd := field(b, "genre")
	n := b.Get(fd).Enum()
	if fd.Enum().Values().ByNumber(n) == nil {
		return status.Errorf(codes.InvalidArgument, "book.genre: %d is not a Genre", n)
	}
	return nil
}

func (s *store) listBooks(_ context.Context, req protoreflect.Message) (proto.Message, error) {
	size := req.Get(field(req, "page_size")).Int()
	if size < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "page_size must not be negative, got %d", size)
	}
	after := int64(0)
	if tok := getStr(req, "page_token"); tok != "" {
		n, err := strconv.ParseInt(tok, 10, 64)
		if err != nil || n <= 0 {
			return nil, status.Errorf(codes.InvalidArgument, "page_token %q is not a token from next_page_token", tok)
		}
		after = n
	}
	genre := req.Get(field(req, "genre")).Enum()
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, err := s.shelfOf(req)
	if err != nil {
		return nil, err
	}
	resp := newMsg("bookstore.v1.ListBooksResponse")
	n := int64(0)
	for _, b := range sh.sortedBooks() {
		id := getInt(b, "id")
		if id <= after || (genre != 0 && b.Get(field(b, "genre")).Enum() != genre) {
			continue
		}
		if size > 0 && n == size {
			setStr(resp, "next_page_token", strconv.FormatInt(after, 10))
			break
		}
		appendList(resp, "books", proto.Clone(b).ProtoReflect())
		after, n = id, n+1
	}
	return resp, nil
}

func (s *store) createBook(_ context.Context, req protoreflect.Message) (proto.Message, error) {
	if !has(req, "book") {
		return nil, status.Error(codes.InvalidArgument, "book is required")
	}
	in := getMsg(req, "book")
	if err := checkBook(in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, err := s.shelfOf(req)
	if err != nil {
		return nil, err
	}
	title := strings.TrimSpace(getStr(in, "title"))
	for id, b := range sh.books {
		if strings.EqualFold(getStr(b, "title"), title) && getStr(b, "author") == getStr(in, "author") {
			return nil, status.Errorf(codes.AlreadyExists, "book %d on shelf %d is already %q", id, getInt(sh.msg, "id"), title)
		}
	}
	b := proto.Clone(in.Interface()).(*dynamicpb.Message)
	setStr(b, "title", title)
	return proto.Clone(s.addBook(sh, b, time.Now())), nil
}

func (s *store) getBook(_ context.Context, req protoreflect.Message) (proto.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, err := s.shelfOf(req)
	if err != nil {
		return nil, err
	}
	b, err := bookOf(sh, getInt(req, "book"))
	if err != nil {
		return nil, err
	}
	return proto.Clone(b), nil
}

func (s *store) deleteBook(_ context.Context, req protoreflect.Message) (proto.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, err := s.shelfOf(req)
	if err != nil {
		return nil, err
	}
	if _, err := bookOf(sh, getInt(req, "book")); err != nil {
		return nil, err
	}
	delete(sh.books, getInt(req, "book"))
	return newMsg("google.protobuf.Empty"), nil
}

// maskPaths returns update_mask's paths, or the populated fields of in when
// the mask is empty, after checking each may be updated.
func maskPaths(req, in protoreflect.Message) ([]string, error) {
	var paths []string
	list := getMsg(req, "update_mask").Get(field(getMsg(req, "update_mask"), "paths")).List()
	for i := range list.Len() {
		paths = append(paths, list.Get(i).String())
	}
	if len(paths) == 0 {
		in.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
			if fd.Name() != "id" {
				paths = append(paths, string(fd.Name()))
			}
			return true
		})
	}
	for _, p := range paths {
		if !updatable[p] {
			return nil, status.Errorf(codes.InvalidArgument, "update_mask: %q cannot be updated (allowed: author, title, genre, tags, pages, labels)", p)
		}
	}
	return paths, checkGenre(in)
}

func (s *store) updateBook(_ context.Context, req protoreflect.Message) (proto.Message, error) {
	in := proto.Clone(getMsg(req, "book").Interface()).ProtoReflect()
	paths, err := maskPaths(req, in)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, err := s.shelfOf(req)
	if err != nil {
		return nil, err
	}
	old, err := bookOf(sh, getInt(in, "id"))
	if err != nil {
		return nil, err
	}
	b := proto.Clone(old).(*dynamicpb.Message) // stored only once valid
	for _, p := range paths {
		fd := field(b, protoreflect.Name(p))
		if in.Has(fd) {
			b.Set(fd, in.Get(fd))
		} else {
			b.Clear(fd)
		}
	}
	if strings.TrimSpace(getStr(b, "title")) == "" {
		return nil, status.Error(codes.InvalidArgument, "book.title must not be empty")
	}
	sh.books[getInt(b, "id")] = b
	return proto.Clone(b), nil
}

func (s *store) publishBook(_ context.Context, req protoreflect.Message) (proto.Message, error) {
	publisher := strings.TrimSpace(getStr(req, "publisher"))
	edition := req.Get(field(req, "edition")).Int()
	switch {
	case publisher == "":
		return nil, status.Error(codes.InvalidArgument, "publisher is required")
	case edition < 0:
		return nil, status.Errorf(codes.InvalidArgument, "edition must not be negative, got %d", edition)
	case edition == 0:
		edition = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, err := s.shelfOf(req)
	if err != nil {
		return nil, err
	}
	b, err := bookOf(sh, getInt(req, "book"))
	if err != nil {
		return nil, err
	}
	if has(b, "publication") {
		return nil, status.Errorf(codes.FailedPrecondition, "book %d is already published by %s", getInt(b, "id"), getStr(getMsg(b, "publication"), "publisher"))
	}
	pub := b.Mutable(field(b, "publication")).Message()
	setStr(pub, "publisher", publisher)
	set(pub, "edition", protoreflect.ValueOfInt32(int32(edition)))
	setTime(pub, "publish_time", time.Now())
	return proto.Clone(b), nil
}

// watchBooks sends a snapshot of the shelf's books, paced by interval, and
// ends the stream; a cancelled client ends it early.
func (s *store) watchBooks(req protoreflect.Message, stream grpc.ServerStream) error {
	interval := getDuration(req, "interval")
	if interval < 0 || interval > maxWatchInterval {
		return status.Errorf(codes.InvalidArgument, "interval must be between 0s and %v, got %v", maxWatchInterval, interval)
	}
	s.mu.Lock()
	sh, err := s.shelfOf(req)
	var books []*dynamicpb.Message
	if err == nil {
		for _, b := range sh.sortedBooks() {
			books = append(books, proto.Clone(b).(*dynamicpb.Message))
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	for i, b := range books {
		if i > 0 && interval > 0 {
			select {
			case <-time.After(interval):
			case <-stream.Context().Done():
				return status.FromContextError(stream.Context().Err()).Err()
			}
		}
		if err := stream.SendMsg(b); err != nil {
			return err
		}
	}
	return nil
}
