// Command strait is the gRPC gateway binary: serve, check, routes, demo and
// version. Errors a user can act on print one line to stderr and exit
// non-zero (2 for a usage mistake). It imports engine and the demo service;
// nothing imports it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version (or "devel") is reported.
var version = ""

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed: bad config, port in use, upstream down
	exitUsage = 2 // a bad command line
)

// errUsage marks an error already explained as a usage mistake.
var errUsage = errors.New("usage")

const usage = `strait is a gRPC gateway: REST/JSON, gRPC and gRPC-Web on one port.

Usage:
  strait serve  --listen ADDR --upstream ADDR --descriptors FILE.pb [--admin ADDR] [--config strait.yaml]
  strait check  --config strait.yaml   validate a configuration and its descriptors
  strait routes --descriptors FILE.pb  print the route table (or --config strait.yaml)
  strait demo   [--listen ADDR]        the gateway in front of a built-in bookstore service
  strait version

Run "strait COMMAND -h" for a command's flags.
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// command is one subcommand: it parses args itself and returns an error for
// main to print.
type command func(args []string, stdout, stderr io.Writer) error

var commands = map[string]command{
	"serve":   serve,
	"check":   check,
	"routes":  routes,
	"demo":    demoCmd,
	"version": versionCmd,
}

// run dispatches to a subcommand and maps its error to an exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "strait: unknown command %q (want serve, check, routes, demo or version; strait -h for help)\n", args[0])
		return exitUsage
	}
	err := cmd(args[1:], stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	}
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintln(stderr, "strait: "+line)
	}
	return exitError
}

// newFlags makes a subcommand's flag set that reports a mistake in one line;
// parse prints the full flag list only for -h.
func newFlags(name, synopsis string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("strait "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // flag calls it on every error too
	help[fs] = func() {
		fmt.Fprintf(stdout, "Usage: strait %s %s\n\nFlags:\n", name, synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// help holds each flag set's -h text printer.
var help = map[*flag.FlagSet]func(){}

// parse parses args, turning a flag error into one stderr line and errUsage.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	err := fs.Parse(args)
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		help[fs]()
		return err
	}
	fmt.Fprintf(stderr, "%s: %v (%s -h for help)\n", fs.Name(), err, fs.Name())
	return errUsage
}

func versionCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "", stdout)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "strait %s (%s %s/%s)\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// buildVersion is the -ldflags version, else the module version, else the
// VCS revision, else "devel".
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}

// listFlag is a repeatable string flag; each use appends.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}
