// Package progress draws progress bars for long library work: a terminal
// bar for scripts and an HTML bar for GoNB notebooks. The library itself
// never prints; it reports through hooks, and these bars attach to them.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/paperlab/paperlab/lib/train"
)

// Bar tracks units of work (training steps, runs, ...) towards a total and
// redraws at most every Interval.
type Bar struct {
	Label    string
	Total    float64
	Interval time.Duration // minimum time between redraws; 0 means 200 ms

	mu      sync.Mutex
	done    float64
	start   time.Time
	last    time.Time
	note    string
	draw    func(b *Bar, final bool)
	out     io.Writer
	htmlID  string
	lastLen int
}

// Terminal returns a bar that redraws one line on w (use os.Stderr).
func Terminal(w io.Writer, label string, total float64) *Bar {
	return &Bar{Label: label, Total: total, out: w, start: time.Now(), draw: (*Bar).drawTerminal}
}

// Notebook returns a bar shown as an HTML cell output under GoNB, updated
// in place; outside a notebook it draws nothing.
func Notebook(label string, total float64) *Bar {
	b := &Bar{Label: label, Total: total, start: time.Now(), draw: (*Bar).drawHTML}
	if gonbui.IsNotebook {
		b.htmlID = "progress-" + gonbui.UniqueID()
		gonbui.UpdateHTML(b.htmlID, b.html(false))
	}
	return b
}

// Add records n more units done, with a short note (e.g. the current run
// and its loss), and redraws if due.
func (b *Bar) Add(n float64, note string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if note != "" {
		b.note = note
	}
	if iv := b.interval(); time.Since(b.last) >= iv {
		b.last = time.Now()
		b.draw(b, false)
	}
}

// Finish draws the final state.
func (b *Bar) Finish(note string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if note != "" {
		b.note = note
	}
	b.draw(b, true)
}

func (b *Bar) interval() time.Duration {
	if b.Interval == 0 {
		return 200 * time.Millisecond
	}
	return b.Interval
}

// ETA estimates the time left from the rate so far.
func (b *Bar) ETA() time.Duration {
	el := time.Since(b.start)
	if b.done <= 0 || b.Total <= b.done {
		return 0
	}
	return time.Duration(float64(el) * (b.Total - b.done) / b.done).Round(time.Second)
}

func (b *Bar) frac() float64 {
	if b.Total <= 0 {
		return 1
	}
	return min(1, b.done/b.Total)
}

func (b *Bar) status() string {
	s := fmt.Sprintf("%s %3.0f%%  %s elapsed", b.Label, 100*b.frac(), time.Since(b.start).Round(time.Second))
	if eta := b.ETA(); eta > 0 {
		s += fmt.Sprintf(", ETA %s", eta)
	}
	if b.note != "" {
		s += "  " + b.note
	}
	return s
}

func (b *Bar) drawTerminal(final bool) {
	const width = 30
	n := int(b.frac() * width)
	line := "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "] " + b.status()
	pad := ""
	if len(line) < b.lastLen {
		pad = strings.Repeat(" ", b.lastLen-len(line))
	}
	b.lastLen = len(line)
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(b.out, "\r%s%s%s", line, pad, end)
}

// html renders the bar; the final rendering leaves out times, so that an
// executed notebook is the same on every run.
func (b *Bar) html(final bool) string {
	status := b.status()
	if final {
		status = fmt.Sprintf("%s %3.0f%%  %s", b.Label, 100*b.frac(), b.note)
	}
	return fmt.Sprintf(`<div style="font-family:monospace"><progress value="%.4f" max="1" style="width:240px"></progress> %s</div>`,
		b.frac(), htmlEscape(strings.TrimSpace(status)))
}

func (b *Bar) drawHTML(final bool) {
	if b.htmlID == "" {
		return
	}
	gonbui.UpdateHTML(b.htmlID, b.html(final))
	if final {
		gonbui.Sync()
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// TrainHooks advances bar by the training steps of every run (total: the
// steps the grid lacks) and notes the current run and validation loss.
func TrainHooks(bar *Bar) train.Hooks {
	var mu sync.Mutex
	last := map[string]int{}
	return train.Hooks{Epoch: func(p train.Progress) {
		mu.Lock()
		delta := p.Step - last[p.Run.String()]
		last[p.Run.String()] = p.Step
		mu.Unlock()
		bar.Add(float64(delta), fmt.Sprintf("%s step %d, validation loss %.4f", p.Run, p.Step, p.ValLoss))
	}}
}
