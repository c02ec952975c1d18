// Package nbrun executes Jupyter notebooks headlessly, without Python, by
// driving a kernel (GoNB by default) over the Jupyter protocol.
//
// It starts the kernel from a kernelspec (kernel.json) with a fresh
// connection file, in the notebook's folder, and speaks Jupyter messaging
// v5.3 over ZeroMQ (github.com/go-zeromq/zmq4) with HMAC-SHA256-signed
// messages: a kernel_info_request handshake, then one execute_request per
// code cell in order. The outputs published on iopub for each request
// (stream, display_data, update_display_data, execute_result, error,
// clear_output) are written into the nbformat 4 notebook with execution
// counts 1, 2, 3... in cell order. The notebook is written as Jupyter writes
// it (sorted keys, one-space indent, trailing newline), so a rerun that
// produces the same outputs gives a byte-identical file.
package nbrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultCellTimeout  = 20 * time.Minute
	DefaultStartTimeout = time.Minute
)

// Grace periods: for the kernel to exit after shutdown_request, and for a
// cell to finish after interrupt_request.
const (
	shutdownGrace  = 5 * time.Second
	interruptGrace = 5 * time.Second
)

// Options configures Run. The zero value runs the repository's GoNB kernel.
type Options struct {
	// KernelSpec is the path of a kernel.json. If empty, FindKernelSpec looks
	// from the current folder and then the notebook's; if that fails,
	// BuiltinKernelSpec is used.
	KernelSpec string
	// CellTimeout bounds each cell's execution; 0 means DefaultCellTimeout.
	CellTimeout time.Duration
	// StartTimeout bounds kernel start-up; 0 means DefaultStartTimeout.
	StartTimeout time.Duration
	// AllowErrors keeps executing after a cell fails, and then Run returns nil.
	AllowErrors bool
	// Log receives progress lines and, when something fails, the tail of the
	// kernel's stderr. It may be nil.
	Log io.Writer
	// Env holds extra KEY=value entries for the kernel's environment.
	Env []string
}

// CellError reports a cell that failed, or did not finish in time
// (EName "timeout").
type CellError struct {
	Notebook string // path as given to Run
	Cell     int    // 1-based index among all cells
	EName    string
	EValue   string
	detail   string // the cell's stderr and traceback, for the log
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// Error returns "notebook: cell N: ename: evalue" on one line.
func (e *CellError) Error() string {
	var lines []string
	for _, l := range strings.Split(ansiEscape.ReplaceAllString(e.EValue, ""), "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			lines = append(lines, l)
		}
	}
	return fmt.Sprintf("%s: cell %d: %s: %s", e.Notebook, e.Cell, e.EName, strings.Join(lines, "; "))
}

// Run executes the code cells of the notebook at notebookPath and writes the
// notebook with their outputs to outPath (notebookPath if empty). When a cell
// fails and AllowErrors is false, the remaining code cells are not run and
// lose their outputs, the notebook is still written, and the error is a
// *CellError. The kernel is always shut down. If ctx is cancelled, Run
// returns without writing.
func Run(ctx context.Context, notebookPath, outPath string, opt Options) (err error) {
	start := time.Now()
	logf := func(format string, args ...any) {
		if opt.Log != nil {
			msg := fmt.Sprintf("nbrun: %s: "+format, append([]any{notebookPath}, args...)...)
			fmt.Fprint(opt.Log, strings.TrimSuffix(msg, "\n")+"\n")
		}
	}
	if outPath == "" {
		outPath = notebookPath
	}
	if opt.CellTimeout == 0 {
		opt.CellTimeout = DefaultCellTimeout
	}
	if opt.StartTimeout == 0 {
		opt.StartTimeout = DefaultStartTimeout
	}
	nb, err := readNotebook(notebookPath)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(filepath.Dir(notebookPath))
	if err != nil {
		return err
	}
	spec := &BuiltinKernelSpec
	if opt.KernelSpec == "" {
		opt.KernelSpec = FindKernelSpec(".", dir)
	}
	if opt.KernelSpec != "" {
		if spec, err = LoadKernelSpec(opt.KernelSpec); err != nil {
			return fmt.Errorf("%s: %v", notebookPath, err)
		}
	}

	k, err := startKernel(ctx, spec, dir, opt.Env, opt.StartTimeout)
	defer func() {
		if k != nil {
			k.close(shutdownGrace)
		}
		var ce *CellError
		if k != nil && err != nil && ctx.Err() == nil && (!errors.As(err, &ce) || ce.EName == "timeout") &&
			k.outputTail(1) != "" {
			logf("kernel output (last lines):\n%s", k.outputTail(40))
		}
	}()
	if err != nil {
		return fmt.Errorf("%s: kernel %s: %v", notebookPath, spec.Argv[0], err)
	}
	logf("kernel ready (%.1fs)", time.Since(start).Seconds())

	r := &runner{k: k, nb: nb, path: notebookPath, displays: map[string][]map[string]any{}}
	var firstErr error
	stop := false // no more cells are run
	count := 0
	for i, cell := range nb.cells {
		if cell["cell_type"] != "code" {
			continue
		}
		if stop {
			cell["outputs"], cell["execution_count"] = []any{}, nil
			continue
		}
		count++
		t := time.Now()
		err := r.execute(ctx, i, count, opt.CellTimeout)
		var ce *CellError
		switch {
		case errors.As(err, &ce):
			logf("cell %d/%d (%.1fs): %s: %s\n%s", i+1, len(nb.cells), time.Since(t).Seconds(), ce.EName, firstLine(ce.EValue), indent(ce.detail, 20))
			stop = !opt.AllowErrors || ce.EName == "timeout" // after a timeout the kernel is unusable
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("%s: cell %d: %v", notebookPath, i+1, ctx.Err())
		case err != nil:
			err = fmt.Errorf("%s: cell %d: %v", notebookPath, i+1, err)
			stop = true
		default:
			logf("cell %d/%d (%.1fs)", i+1, len(nb.cells), time.Since(t).Seconds())
		}
		if firstErr == nil && err != nil && (ce == nil || stop) {
			firstErr = err
		}
	}
	if err := nb.write(outPath); err != nil {
		return err
	}
	logf("wrote %s (%.1fs)", outPath, time.Since(start).Seconds())
	return firstErr
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(ansiEscape.ReplaceAllString(s, "")), "\n")
	return s
}

// indent returns the last n lines of s without ANSI escapes, each indented by
// two spaces and ending in a newline.
func indent(s string, n int) string {
	s = strings.TrimRight(ansiEscape.ReplaceAllString(s, ""), "\n")
	if strings.TrimSpace(s) == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// runner holds the state of one notebook's execution.
type runner struct {
	k        *kernel
	nb       *notebook
	path     string
	displays map[string][]map[string]any // display_id -> outputs showing it
}

// execute runs code cell i (0-based) as execution count n and stores its
// outputs. A failing cell gives a *CellError; other errors are the kernel's.
func (r *runner) execute(ctx context.Context, i, n int, timeout time.Duration) error {
	cell := r.nb.cells[i]
	code, _ := cellSource(cell) // checked by parseNotebook
	var outputs []map[string]any
	cell["outputs"], cell["execution_count"] = []any{}, n
	defer func() { cell["outputs"] = finishOutputs(outputs) }()

	req, err := r.k.send(r.k.shell, "execute_request", map[string]any{
		"code": code, "silent": false, "store_history": true,
		"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true,
	})
	if err != nil {
		return err
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var reply *message
	idle, clearWait, interrupted := false, false, false
	waitCtx := ctx
	for reply == nil || !idle {
		m, iopub, err := r.k.next(waitCtx, timer.C)
		if err == errTimer || err != nil && err == ctx.Err() {
			if interrupted {
				break // no answer to the interrupt either
			}
			// On a timeout or cancellation, interrupt the cell and collect
			// what it flushes, so that the kernel can clean up and exit.
			interrupted = true
			r.k.interrupt()
			timer.Reset(interruptGrace)
			waitCtx = context.Background()
			continue
		}
		if err != nil {
			return err
		}
		if m.Parent.MsgID != req.MsgID {
			continue
		}
		if !iopub {
			if m.Header.MsgType == "execute_reply" {
				reply = m
			}
			continue
		}
		c := m.Content
		out := map[string]any{"output_type": m.Header.MsgType}
		switch m.Header.MsgType {
		case "status":
			idle = c["execution_state"] == "idle"
			continue
		case "clear_output":
			if wait, _ := c["wait"].(bool); wait {
				clearWait = true
			} else {
				outputs = nil
			}
			continue
		case "update_display_data":
			id, _ := mapOf(c["transient"])["display_id"].(string)
			for _, o := range r.displays[id] {
				o["data"], o["metadata"] = splitData(mapOf(c["data"])), mapOf(c["metadata"])
			}
			continue
		case "stream":
			text, _ := c["text"].(string)
			if last := len(outputs) - 1; !clearWait && last >= 0 &&
				outputs[last]["output_type"] == "stream" && outputs[last]["name"] == c["name"] {
				outputs[last]["text"] = outputs[last]["text"].(string) + text
				continue
			}
			out["name"], out["text"] = c["name"], text
		case "display_data", "execute_result":
			out["data"], out["metadata"] = splitData(mapOf(c["data"])), mapOf(c["metadata"])
			if m.Header.MsgType == "execute_result" {
				out["execution_count"] = n
			}
			if id, _ := mapOf(c["transient"])["display_id"].(string); id != "" {
				r.displays[id] = append(r.displays[id], out)
			}
		case "error":
			out["ename"], out["evalue"], out["traceback"] = c["ename"], c["evalue"], c["traceback"]
			if out["traceback"] == nil {
				out["traceback"] = []any{}
			}
		default: // execute_input, comm messages...
			continue
		}
		if clearWait {
			outputs, clearWait = nil, false
		}
		outputs = append(outputs, out)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if interrupted {
		return &CellError{Notebook: r.path, Cell: i + 1, EName: "timeout",
			EValue: fmt.Sprintf("cell did not finish within %v", timeout)}
	}
	if reply.Content["status"] != "ok" {
		ce := &CellError{Notebook: r.path, Cell: i + 1}
		ce.EName, _ = reply.Content["ename"].(string)
		ce.EValue, _ = reply.Content["evalue"].(string)
		if ce.EName == "" {
			ce.EName = fmt.Sprint(reply.Content["status"])
		}
		var detail strings.Builder
		for _, o := range outputs {
			if o["name"] == "stderr" {
				detail.WriteString(o["text"].(string))
			}
			if tb, ok := o["traceback"].([]any); ok {
				for _, l := range tb {
					fmt.Fprintln(&detail, l)
				}
			}
		}
		ce.detail = detail.String()
		return ce
	}
	return nil
}

// mapOf returns v as a JSON object, or an empty one.
func mapOf(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

// finishOutputs converts a cell's outputs to nbformat: stream text is split
// into lines.
func finishOutputs(outputs []map[string]any) []any {
	list := make([]any, len(outputs))
	for i, o := range outputs {
		if s, ok := o["text"].(string); ok {
			o["text"] = splitLines(s)
		}
		list[i] = o
	}
	return list
}
