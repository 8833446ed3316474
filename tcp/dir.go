package tcp

// Dir is the side of a connection that sent a segment: Client, the side
// that opened it (or was judged to, when the capture missed the opening),
// or Server. It indexes every per-direction pair ([2]T) in tcptrace.
type Dir uint8

const (
	Client Dir = 0 // client → server
	Server Dir = 1 // server → client
)

// Dirs lists both directions, client first: for _, d := range tcp.Dirs.
var Dirs = [2]Dir{Client, Server}

// Peer is the other direction.
func (d Dir) Peer() Dir { return d ^ 1 }

// String is "client" or "server": the side that sent.
func (d Dir) String() string {
	if d == Client {
		return "client"
	}
	return "server"
}
