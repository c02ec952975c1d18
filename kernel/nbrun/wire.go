package nbrun

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// protocolVersion is the Jupyter messaging protocol version nbrun speaks.
const protocolVersion = "5.3"

// delimiter separates the routing identities from the message frames.
const delimiter = "<IDS|MSG>"

// header is a Jupyter message header (also used as parent_header).
type header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// message is a decoded Jupyter message. Content and metadata keep JSON
// numbers as written (json.Number).
type message struct {
	Header   header
	Parent   header
	Metadata map[string]any
	Content  map[string]any
}

// newHeader returns a fresh header of the given type for session.
func newHeader(session, msgType string) header {
	return header{
		MsgID:    newID(),
		Session:  session,
		Username: "nbrun",
		Date:     time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
		MsgType:  msgType,
		Version:  protocolVersion,
	}
}

// newID returns a random version 4 UUID.
func newID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails, per crypto/rand
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// sign returns the hex HMAC-SHA256 of the frames under key, or "" when key is
// empty (signing disabled).
func sign(key []byte, frames ...[]byte) string {
	if len(key) == 0 {
		return ""
	}
	mac := hmac.New(sha256.New, key)
	for _, f := range frames {
		mac.Write(f)
	}
	return hex.EncodeToString(mac.Sum(nil))
}

// encode returns the wire frames of m: delimiter, signature, header,
// parent_header, metadata and content.
func encode(key []byte, m *message) ([][]byte, error) {
	var parent any = m.Parent
	if m.Parent.MsgID == "" {
		parent = struct{}{}
	}
	metadata, content := m.Metadata, m.Content
	if metadata == nil {
		metadata = map[string]any{}
	}
	if content == nil {
		content = map[string]any{}
	}
	frames := [][]byte{[]byte(delimiter), nil}
	for _, v := range []any{m.Header, parent, metadata, content} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		frames = append(frames, b)
	}
	frames[1] = []byte(sign(key, frames[2:]...))
	return frames, nil
}

// decode parses wire frames (routing identities first, as a SUB or DEALER
// socket receives them) and checks their signature.
func decode(key []byte, frames [][]byte) (*message, error) {
	i := 0
	for i < len(frames) && string(frames[i]) != delimiter {
		i++
	}
	if len(frames)-i < 6 {
		return nil, errors.New("malformed message: no delimiter or too few frames")
	}
	sig, parts := frames[i+1], frames[i+2:i+6]
	if len(key) != 0 {
		want, err := hex.DecodeString(string(sig))
		if err != nil || !hmac.Equal(want, mustHex(sign(key, parts...))) {
			return nil, errors.New("message signature does not match the connection key")
		}
	}
	m := &message{}
	for j, dst := range []any{&m.Header, &m.Parent, &m.Metadata, &m.Content} {
		dec := json.NewDecoder(bytes.NewReader(parts[j]))
		dec.UseNumber()
		if err := dec.Decode(dst); err != nil {
			return nil, fmt.Errorf("malformed message frame %d: %v", j+2, err)
		}
	}
	return m, nil
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}
