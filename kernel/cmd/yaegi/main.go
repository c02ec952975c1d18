// Command yaegi is paperlab's script runner: the yaegi Go interpreter with
// the compiled paperlab library built in, so that
//
//	bin/yaegi run scripts/dataset.go [args...]
//
// interprets the script while calls into the library run at native speed.
// Stock yaegi cannot do this: it resolves imports from GOPATH only and cannot
// interpret gonum. The library's symbols come from kernel/yaegisym.
//
// The interpreted language is yaegi v0.16.1's, about Go 1.21: no range over
// integers, no min/max builtins, and loop variables shared across
// iterations.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"reflect"
	"strings"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
	"github.com/traefik/yaegi/stdlib/syscall"

	"github.com/paperlab/paperlab/kernel/yaegisym"
)

const usage = `usage: yaegi run [-tags t1,t2] script.go [args...]

Runs a Go script with the paperlab library compiled in.
Scripts import packages of github.com/paperlab/paperlab/lib as usual.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Exit))
}

// run interprets the script named in args, with the script's standard
// output and error going to stdout and stderr, and returns the exit status.
// A script's os.Exit(code), and log.Fatal's exit 1, call exit(code): the
// script runner is a command, and its scripts' exit codes are its own
// (stock yaegi turns them into a panic with a stack trace and status 2).
func run(args []string, stdout, stderr io.Writer, exit func(int)) int {
	if len(args) > 0 && args[0] == "run" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("yaegi run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	tags := fs.String("tags", "", "comma-separated build tags")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 1 {
		fs.Usage()
		return 2
	}
	script := fs.Arg(0)
	// Compiled packages such as flag read os.Args, so the script must see
	// its own name and arguments there, as under `go run`.
	os.Args = fs.Args()
	var buildTags []string
	if *tags != "" {
		buildTags = strings.Split(*tags, ",")
	}
	i := interp.New(interp.Options{
		GoPath:    os.DevNull, // imports resolve to compiled symbols only
		Args:      fs.Args(),
		BuildTags: buildTags,
		Env:       os.Environ(),
		Stdin:     os.Stdin,
		Stdout:    stdout,
		Stderr:    stderr,
	})
	for _, syms := range []interp.Exports{stdlib.Symbols, syscall.Symbols, exits(exit, stderr), yaegisym.Symbols} {
		if err := i.Use(syms); err != nil {
			fmt.Fprintf(stderr, "yaegi: %v\n", err)
			return 1
		}
	}
	if _, err := i.EvalPath(script); err != nil {
		var p interp.Panic
		if errors.As(err, &p) {
			fmt.Fprintf(stderr, "yaegi: %s: panic: %v\n%s", script, p.Value, p.Stack)
			return 2
		}
		fmt.Fprintf(stderr, "yaegi: %s: %v\n", script, err)
		return 1
	}
	return 0
}

// exits replaces the sandboxed os.Exit and log.Fatal* of yaegi's standard
// library with ones that end the script with its own status.
func exits(exit func(int), stderr io.Writer) interp.Exports {
	fatal := func(msg string) {
		log.New(stderr, log.Prefix(), log.Flags()).Output(3, msg)
		exit(1)
	}
	return interp.Exports{
		"os/os": {"Exit": reflect.ValueOf(exit)},
		"log/log": {
			"Fatal":   reflect.ValueOf(func(v ...any) { fatal(fmt.Sprint(v...)) }),
			"Fatalf":  reflect.ValueOf(func(f string, v ...any) { fatal(fmt.Sprintf(f, v...)) }),
			"Fatalln": reflect.ValueOf(func(v ...any) { fatal(fmt.Sprintln(v...)) }),
		},
	}
}
