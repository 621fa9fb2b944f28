package main

import (
	"fmt"
	"io"

	"github.com/straitgw/strait/engine"
)

// check validates a configuration as serve would, without binding or
// dialing (server reflection aside): the file, the descriptors, the routes
// they compile to and the service names the file routes.
func check(args []string, stdout, stderr io.Writer) error {
	var g gatewayFlags
	fs := newFlags("check", "--config strait.yaml [serve's flags, to check them too]", stdout)
	g.register(fs)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if g.config == "" && fs.NFlag() == 0 {
		fmt.Fprintln(stderr, "strait check: give --config FILE (strait check -h for help)")
		return errUsage
	}
	cfg, err := g.load(fs)
	if err != nil {
		return err
	}
	files, err := cfg.Check()
	if err != nil {
		return err
	}
	e, err := engine.NewWithDescriptors(cfg, files)
	if err != nil {
		return err
	}
	defer e.Close()
	fmt.Fprintf(stdout, "%s: OK (%d upstreams, %d routes)\n", name(g.config), len(cfg.Upstreams), len(e.Router().Routes()))
	return nil
}

func name(config string) string {
	if config == "" {
		return "flags"
	}
	return config
}

// routes prints the route table the descriptors compile to, one
// "METHOD /template -> pkg.Service.Method" a line. Every method is also
// reachable as POST /pkg.Service/Method; those lines are shown for methods
// without an http rule, and for all with --all.
func routes(args []string, stdout, stderr io.Writer) error {
	var g gatewayFlags
	fs := newFlags("routes", "--descriptors FILE.pb | --config strait.yaml [--all]", stdout)
	fs.StringVar(&g.config, "config", "", "YAML configuration `file` naming the descriptors")
	fs.Var(&g.descriptors, "descriptors", "FileDescriptorSet `file` (repeatable; replaces the file's list)")
	all := fs.Bool("all", false, "also list the POST /pkg.Service/Method route of methods with an http rule")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if g.config == "" && len(g.descriptors) == 0 {
		fmt.Fprintln(stderr, "strait routes: give --descriptors FILE.pb or --config FILE (strait routes -h for help)")
		return errUsage
	}
	cfg, err := g.load(fs)
	if err != nil {
		return err
	}
	files, err := cfg.LoadDescriptors()
	if err != nil {
		return err
	}
	cfg.Upstreams, cfg.Services = nil, nil // routing needs no upstream
	e, err := engine.NewWithDescriptors(cfg, files)
	if err != nil {
		return err
	}
	defer e.Close()
	engine.WriteRoutes(stdout, e.Router().Routes(), *all)
	return nil
}
