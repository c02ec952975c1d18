// Command nbrun executes Jupyter notebooks headlessly with the GoNB kernel,
// without Python, and writes their outputs back.
//
// Usage:
//
//	nbrun [-kernelspec path] [-timeout 20m] [-allow-errors] [-o outdir] notebook.ipynb...
//
// Notebooks run one after another and are rewritten in place, or written to
// outdir under their base names. nbrun stops at the first failing cell
// (unless -allow-errors), still writing that notebook with the outputs so
// far, prints "nbrun: notebook: cell N: ename: evalue" and exits with status 1.
//
// The default kernelspec is kernel/jupyter/kernels/gonb/kernel.json of the
// github.com/paperlab/paperlab repository holding the current folder or the
// notebook; without one, "gonb" is run from PATH. GoNB needs go and
// goimports on PATH.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/paperlab/paperlab/kernel/nbrun"
)

func main() {
	var opt nbrun.Options
	flag.StringVar(&opt.KernelSpec, "kernelspec", "", "`path` of the kernel.json (default: the repository's GoNB kernelspec)")
	flag.DurationVar(&opt.CellTimeout, "timeout", nbrun.DefaultCellTimeout, "time limit for each cell")
	flag.BoolVar(&opt.AllowErrors, "allow-errors", false, "keep running cells after one fails, and exit 0")
	outDir := flag.String("o", "", "write executed notebooks to `outdir` instead of in place")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: nbrun [-kernelspec path] [-timeout 20m] [-allow-errors] [-o outdir] notebook.ipynb...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	opt.Log = os.Stderr

	outs := map[string]string{} // output path -> notebook
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			fail(err)
		}
		for _, nb := range flag.Args() {
			out := filepath.Join(*outDir, filepath.Base(nb))
			if prev, ok := outs[out]; ok {
				fail(fmt.Errorf("%s and %s would both be written to %s", prev, nb, out))
			}
			outs[out] = nb
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, nb := range flag.Args() {
		out := ""
		if *outDir != "" {
			out = filepath.Join(*outDir, filepath.Base(nb))
		}
		if err := nbrun.Run(ctx, nb, out, opt); err != nil {
			stop()
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "nbrun: %v\n", err)
	os.Exit(1)
}
