package progress

import (
	"bytes"
	"strings"
	"testing"
)

func TestTerminal(t *testing.T) {
	var b bytes.Buffer
	bar := Terminal(&b, "train", 200)
	bar.Interval = -1 // redraw on every Add
	bar.Add(50, "run a")
	if s := b.String(); !strings.Contains(s, "[=======") || !strings.Contains(s, " 25%") || !strings.Contains(s, "run a") {
		t.Errorf("after 50/200: %q", s)
	}
	bar.Add(150, "")
	bar.Finish("done")
	out := b.String()
	last := out[strings.LastIndex(out, "\r")+1:]
	if !strings.HasPrefix(last, "[==============================] train 100%") || !strings.HasSuffix(strings.TrimRight(last, " \n"), "done") || !strings.HasSuffix(last, "\n") {
		t.Errorf("final line %q", last)
	}
	if bar.ETA() != 0 {
		t.Errorf("ETA after completion %v", bar.ETA())
	}
	// Outside a notebook the HTML bar draws nothing and does not fail.
	nb := Notebook("x", 1)
	nb.Add(1, "")
	nb.Finish("")
}

func TestHTML(t *testing.T) {
	b := &Bar{Label: "train", Total: 4}
	b.done, b.note = 4, "all <runs> done"
	got := b.html(true)
	want := `<div style="font-family:monospace"><progress value="1.0000" max="1" style="width:240px"></progress> train 100%  all &lt;runs&gt; done</div>`
	if got != want {
		t.Errorf("final HTML\n got %s\nwant %s", got, want)
	}
}
