package nbrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/paperlab/paperlab/lib/repo"
)

// KernelSpec is a Jupyter kernelspec (kernel.json).
type KernelSpec struct {
	Argv          []string          `json:"argv"` // "{connection_file}" is replaced by the connection file's path
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode,omitempty"`
	Env           map[string]string `json:"env,omitempty"` // added to the kernel's environment
	dir           string            // folder of kernel.json: "{resource_dir}"
}

// BuiltinKernelSpec is used when no kernel.json is given or found: gonb,
// looked up on PATH.
var BuiltinKernelSpec = KernelSpec{
	Argv:          []string{"gonb", "--kernel", "{connection_file}", "--logtostderr", "--raw_error"},
	DisplayName:   "Go (gonb, paperlab)",
	Language:      "go",
	InterruptMode: "message",
}

// specInRepo is the kernelspec's path relative to the repository root.
var specInRepo = filepath.Join("kernel", "jupyter", "kernels", "gonb", "kernel.json")

// LoadKernelSpec reads a kernel.json.
func LoadKernelSpec(path string) (*KernelSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	spec := &KernelSpec{dir: filepath.Dir(path)}
	if err := json.Unmarshal(b, spec); err != nil {
		return nil, fmt.Errorf("kernelspec %s: %v", path, err)
	}
	if len(spec.Argv) == 0 {
		return nil, fmt.Errorf("kernelspec %s: empty argv", path)
	}
	return spec, nil
}

// FindKernelSpec returns the path of the repository's GoNB kernelspec
// (kernel/jupyter/kernels/gonb/kernel.json), looking in each of dirs and
// their parents for the go.mod of module github.com/paperlab/paperlab. It
// returns "" if there is none.
func FindKernelSpec(dirs ...string) string {
	for _, dir := range dirs {
		root, err := repo.RootFrom(dir)
		if err != nil {
			continue
		}
		p := filepath.Join(root, specInRepo)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// connInfo is the content of a Jupyter connection file.
type connInfo struct {
	Transport       string `json:"transport"`
	IP              string `json:"ip"`
	ShellPort       int    `json:"shell_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	ControlPort     int    `json:"control_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`
	SignatureScheme string `json:"signature_scheme"`
	KernelName      string `json:"kernel_name"`
}

// newConnInfo picks five free loopback ports and a random key.
func newConnInfo() (*connInfo, error) {
	var ports [5]int
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close() // keep all open until all are picked, so they differ
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return &connInfo{
		Transport: "tcp", IP: "127.0.0.1",
		ShellPort: ports[0], IOPubPort: ports[1], StdinPort: ports[2], ControlPort: ports[3], HBPort: ports[4],
		Key: newID(), SignatureScheme: "hmac-sha256", KernelName: "gonb",
	}, nil
}

// tailBuffer is an io.Writer that keeps the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// last returns what is kept.
func (t *tailBuffer) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// kernel is a running kernel process and the client sockets connected to it.
type kernel struct {
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the process has exited
	output   *tailBuffer   // the kernel's stdout and stderr
	connFile string
	reaped   func() // tells the reaper (startReaper) that the kernel was closed normally
	key      []byte
	session  string

	ctx                   context.Context // sockets live until cancel
	cancel                context.CancelFunc
	shell, control, iopub zmq4.Socket
	connected             bool
	replies, iopubMsgs    chan *message
	recvErr               chan error
	closeOnce             sync.Once
}

// startKernel starts the kernel of spec in dir and connects to it.
func startKernel(ctx context.Context, spec *KernelSpec, dir string, env []string, timeout time.Duration) (k *kernel, err error) {
	ci, err := newConnInfo()
	if err != nil {
		return nil, fmt.Errorf("picking ports: %v", err)
	}
	k = &kernel{
		exited:    make(chan struct{}),
		output:    &tailBuffer{max: 64 << 10},
		key:       []byte(ci.Key),
		session:   newID(),
		replies:   make(chan *message, 16),
		iopubMsgs: make(chan *message, 256),
		recvErr:   make(chan error, 3),
	}
	k.ctx, k.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			k.close(0)
		}
	}()

	// Jupyter names connection files kernel-<id>.json; GoNB takes its kernel id from the name.
	f, err := os.CreateTemp("", "kernel-"+newID()+"*.json")
	if err != nil {
		return k, err
	}
	k.connFile = f.Name()
	b, _ := json.MarshalIndent(ci, "", "  ")
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return k, fmt.Errorf("writing connection file: %v", err)
	}

	argv := make([]string, len(spec.Argv))
	for i, a := range spec.Argv {
		a = strings.ReplaceAll(a, "{connection_file}", k.connFile)
		argv[i] = strings.ReplaceAll(a, "{resource_dir}", spec.dir)
	}
	k.cmd = exec.Command(argv[0], argv[1:]...)
	k.cmd.Dir = dir
	k.cmd.Env = os.Environ()
	for name, v := range spec.Env {
		k.cmd.Env = append(k.cmd.Env, name+"="+v)
	}
	k.cmd.Env = append(k.cmd.Env, env...)
	k.cmd.Stdout, k.cmd.Stderr = k.output, k.output
	k.cmd.WaitDelay = 2 * time.Second // children (gopls) may hold the output pipe open
	setProcessGroup(k.cmd)
	if err := k.cmd.Start(); err != nil {
		close(k.exited)
		return k, fmt.Errorf("starting kernel: %v", err)
	}
	go func() {
		k.cmd.Wait()
		close(k.exited)
	}()
	if k.reaped, err = startReaper(k.cmd.Process.Pid, k.connFile); err != nil {
		return k, fmt.Errorf("starting the kernel's reaper: %v", err)
	}

	// Dial the sockets while watching the process; zmq4 retries until the kernel listens.
	opts := []zmq4.Option{zmq4.WithID(zmq4.SocketIdentity(k.session)),
		zmq4.WithDialerRetry(100 * time.Millisecond), zmq4.WithDialerMaxRetries(-1)}
	k.shell, k.control = zmq4.NewDealer(k.ctx, opts...), zmq4.NewDealer(k.ctx, opts...)
	k.iopub = zmq4.NewSub(k.ctx, opts...)
	if err := k.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		return k, err
	}
	dialed := make(chan error, 1)
	go func() {
		addr := func(port int) string { return fmt.Sprintf("tcp://%s:%d", ci.IP, port) }
		err := k.shell.Dial(addr(ci.ShellPort))
		if err == nil {
			err = k.control.Dial(addr(ci.ControlPort))
		}
		if err == nil {
			err = k.iopub.Dial(addr(ci.IOPubPort))
		}
		dialed <- err
	}()
	deadline := time.Now().Add(timeout)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err = <-dialed:
	case <-k.exited:
		err = fmt.Errorf("kernel exited at start: %v", k.cmd.ProcessState)
	case <-timer.C:
		err = fmt.Errorf("kernel did not open its ports within %v", timeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		return k, err
	}
	k.connected = true
	go k.receive(k.shell, k.replies)
	go k.receive(k.control, k.replies)
	go k.receive(k.iopub, k.iopubMsgs)
	return k, k.handshake(ctx, deadline)
}

// receive decodes messages from sock onto ch until the sockets are closed.
func (k *kernel) receive(sock zmq4.Socket, ch chan<- *message) {
	for {
		zm, err := sock.Recv()
		var m *message
		if err == nil {
			m, err = decode(k.key, zm.Frames)
		}
		if err != nil {
			select {
			case k.recvErr <- err:
			case <-k.ctx.Done():
			}
			return
		}
		select {
		case ch <- m:
		case <-k.ctx.Done():
			return
		}
	}
}

// send sends a request on sock and returns its header.
func (k *kernel) send(sock zmq4.Socket, msgType string, content map[string]any) (header, error) {
	m := &message{Header: newHeader(k.session, msgType), Content: content}
	frames, err := encode(k.key, m)
	if err == nil {
		err = sock.SendMulti(zmq4.NewMsgFrom(frames...))
	}
	if err != nil {
		return m.Header, fmt.Errorf("sending %s: %v", msgType, err)
	}
	return m.Header, nil
}

// errTimer is returned by next when its timer fires.
var errTimer = errors.New("timer")

// next returns the next message from the shell or control channel (iopub
// false) or from iopub (iopub true).
func (k *kernel) next(ctx context.Context, timer <-chan time.Time) (m *message, iopub bool, err error) {
	select {
	case m := <-k.replies:
		return m, false, nil
	case m := <-k.iopubMsgs:
		return m, true, nil
	case err := <-k.recvErr:
		select { // a dead kernel first shows as a broken connection
		case <-k.exited:
			return nil, false, fmt.Errorf("kernel exited: %v", k.cmd.ProcessState)
		case <-time.After(time.Second):
		}
		return nil, false, fmt.Errorf("receiving from kernel: %v", err)
	case <-k.exited:
		return nil, false, fmt.Errorf("kernel exited: %v", k.cmd.ProcessState)
	case <-ctx.Done():
		return nil, false, ctx.Err()
	case <-timer:
		return nil, false, errTimer
	}
}

// handshake sends kernel_info_request until the kernel replies on shell and
// its iopub messages arrive: a SUB socket misses what is published before its
// subscription reaches the kernel, so the request is repeated until then.
func (k *kernel) handshake(ctx context.Context, deadline time.Time) error {
	sent := map[string]bool{}
	replied, published := false, false
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for resend := true; !replied || !published; {
		if time.Now().After(deadline) {
			return errors.New("kernel did not answer kernel_info_request in time")
		}
		if resend {
			h, err := k.send(k.shell, "kernel_info_request", nil)
			if err != nil {
				return err
			}
			sent[h.MsgID], resend = true, false
		}
		m, iopub, err := k.next(ctx, tick.C)
		switch {
		case err == errTimer:
			resend = !published
		case err != nil:
			return err
		case !sent[m.Parent.MsgID]:
		case iopub:
			published = true
		case m.Header.MsgType == "kernel_info_reply":
			replied = true
		}
	}
	return nil
}

// interrupt asks the kernel to interrupt the running cell.
func (k *kernel) interrupt() {
	if k.connected {
		k.send(k.control, "interrupt_request", nil)
	}
}

// close asks the kernel to shut down, waits up to grace for it to exit, kills
// its process group, and removes the connection file.
func (k *kernel) close(grace time.Duration) {
	k.closeOnce.Do(func() { k.doClose(grace) })
}

func (k *kernel) doClose(grace time.Duration) {
	if k.cmd != nil && k.cmd.Process != nil {
		if k.connected && grace > 0 {
			go k.send(k.control, "shutdown_request", map[string]any{"restart": false})
			select {
			case <-k.exited:
			case <-time.After(grace):
			}
		}
		killProcessGroup(k.cmd)
		<-k.exited
	}
	if k.reaped != nil {
		k.reaped()
	}
	k.cancel()
	for _, s := range []zmq4.Socket{k.shell, k.control, k.iopub} {
		if s != nil {
			s.Close()
		}
	}
	if k.connFile != "" {
		os.Remove(k.connFile)
	}
}

// outputTail returns the last n lines of the kernel's output, indented.
func (k *kernel) outputTail(n int) string {
	return indent(k.output.last(), n)
}
