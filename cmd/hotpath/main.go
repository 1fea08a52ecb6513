// Command hotpath is the one binary of hotpath: the image service (serve,
// worker), its administration (keys), and the command-line engines (uniq,
// resize, sign).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/hotpath/hotpath"
)

// Env is what a subcommand may touch of the process, so tests can run
// commands in-process with their own streams and environment.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// command is one subcommand. Each registers itself from its own file's init.
type command struct {
	Name    string
	Summary string // one line for the command list
	Run     func(ctx context.Context, env *Env, args []string) error
}

var commands = map[string]command{}

func register(c command) { commands[c.Name] = c }

// usageError marks an error in how the command was called: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Usagef returns an error that makes hotpath print msg and exit with status 2.
func Usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	code := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit status. Errors
// are printed as one line on stderr.
func run(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 {
		printUsage(env.Stderr) // a usage error: nothing asked for
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			if _, ok := commands[args[1]]; ok {
				return run(ctx, env, []string{args[1], "--help"})
			}
		}
		printUsage(env.Stdout) // asked for: on stdout, so that it pipes into less
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(env.Stdout, "hotpath", hotpath.Version)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "hotpath: unknown command %q (see 'hotpath --help')\n", args[0])
		return 2
	}
	err := c.Run(ctx, env, args[1:])
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "hotpath %s: %s\n", c.Name, ue.msg)
		return 2
	}
	fmt.Fprintf(env.Stderr, "hotpath %s: %s\n", c.Name, oneLine(err))
	return 1
}

// oneLine renders err for a terminal: coded errors show their client message
// and cause, others their text, all on one line.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "hotpath %s: image service and CSV distinct counting, in one binary.\n\nUsage: hotpath COMMAND [flags] [args]\n\nCommands:\n", hotpath.Version)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].Summary)
	}
	fmt.Fprintln(w, "  version  print the version\n\nRun 'hotpath COMMAND --help' for a command's flags.")
}

// newFlagSet returns a FlagSet that reports errors instead of exiting and
// prints its usage, with the given synopsis and description, to env.Stdout:
// usage is printed only when asked for (--help), and help goes to stdout so
// that it pipes into a pager. Errors go to stderr, through run.
func newFlagSet(env *Env, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stdout)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: hotpath %s %s\n\n%s\n\nFlags:\n", name, synopsis, strings.TrimSpace(description))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs, allowing flags after positional arguments
// ("hotpath resize in.jpg out.webp --width 400"), and returns the positional
// arguments. "--" ends flag parsing; "-" is a positional (stdin/stdout).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	// The flag package prints errors and usage itself; silence both so that
	// errors are reported once, by run, and usage is printed once, here.
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	defer func() { fs.SetOutput(out); fs.Usage = usage }()
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(out)
				usage()
				return nil, err
			}
			return nil, Usagef("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
