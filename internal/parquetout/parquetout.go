// Package parquetout writes tcptrace's results as three Parquet tables, one
// row per connection, per anomaly and per RST (docs/parquet.md is the
// schema), so that the exports of many captures load together into DuckDB,
// Spark or Trino.
//
// Rows stream: a connection's rows are converted when it finishes, held in
// a window of Window connections to put them in ID order (as the CSV
// output), and written in row groups of at most RowGroupRows rows, so
// memory does not grow with the capture. Each table is written to a
// temporary file in the directory and renamed when whole; the output is
// the same on every run (no clock, no random value in the files).
package parquetout

import (
	"container/heap"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/tcptrace/tcptrace/render"
	"github.com/tcptrace/tcptrace/report"
)

// The tables' file names in the output directory.
const (
	ConnsFile     = "connections.parquet"
	AnomaliesFile = "anomalies.parquet"
	ResetsFile    = "resets.parquet"
)

// Files are the three tables, in the order they are written.
var Files = []string{ConnsFile, AnomaliesFile, ResetsFile}

// Window is how many connections wait to be written in ID order;
// RowGroupRows is the most rows of a row group.
const (
	Window       = 10_000
	RowGroupRows = 64 << 10
)

// Conn is a row of connections.parquet.
type Conn struct {
	Capture       string           `parquet:"capture,dict"`
	File          string           `parquet:"file,dict"`
	ID            int64            `parquet:"id"`
	UID           string           `parquet:"uid"`
	ClientIP      string           `parquet:"client_ip,dict"`
	ClientPort    int32            `parquet:"client_port"`
	ServerIP      string           `parquet:"server_ip,dict"`
	ServerPort    int32            `parquet:"server_port"`
	VLAN          string           `parquet:"vlan,dict"`
	RoleBy        string           `parquet:"role_by,dict"`
	FirstFrame    int64            `parquet:"first_frame"`
	LastFile      string           `parquet:"last_file,dict"`
	LastFrame     int64            `parquet:"last_frame"`
	Start         time.Time        `parquet:"start,timestamp(microsecond)"`
	StartNS       int64            `parquet:"start_ns"`
	Duration      float64          `parquet:"duration"`
	PacketsClient int64            `parquet:"packets_client"`
	PacketsServer int64            `parquet:"packets_server"`
	BytesClient   int64            `parquet:"bytes_client"`
	BytesServer   int64            `parquet:"bytes_server"`
	SYNClient     int64            `parquet:"syn_client"`
	SYNServer     int64            `parquet:"syn_server"`
	FINClient     int64            `parquet:"fin_client"`
	FINServer     int64            `parquet:"fin_server"`
	RSTClient     int64            `parquet:"rst_client"`
	RSTServer     int64            `parquet:"rst_server"`
	State         string           `parquet:"state,dict"`
	Handshake     string           `parquet:"handshake,dict"`
	Close         string           `parquet:"close,dict"`
	ClosedBy      string           `parquet:"closed_by,dict"`
	ClientState   string           `parquet:"client_state,dict"`
	ServerState   string           `parquet:"server_state,dict"`
	ConnState     string           `parquet:"conn_state,dict"`
	History       string           `parquet:"history,dict"`
	ZeekFlipped   bool             `parquet:"zeek_flipped"`
	RTTms         *float64         `parquet:"rtt_ms,optional"`
	AnomalyCount  int64            `parquet:"anomaly_count"`
	Anomalies     map[string]int64 `parquet:"anomalies"`
	Resets        int64            `parquet:"resets"`
	ResetCause    string           `parquet:"reset_cause,dict"`
	DelivClient   int64            `parquet:"delivered_client"`
	DelivServer   int64            `parquet:"delivered_server"`
	GapClient     int64            `parquet:"gap_bytes_client"`
	GapServer     int64            `parquet:"gap_bytes_server"`
	Truncated     int64            `parquet:"truncated_packets"`
	Reused        bool             `parquet:"reused_tuple"`
	Evicted       bool             `parquet:"evicted_early"`
	CaptureLoss   bool             `parquet:"incomplete_capture"`
}

// Anomaly is a row of anomalies.parquet.
type Anomaly struct {
	Capture    string    `parquet:"capture,dict"`
	File       string    `parquet:"file,dict"`
	Conn       int64     `parquet:"conn"`
	Frame      int64     `parquet:"frame"`
	Time       time.Time `parquet:"time,timestamp(microsecond)"`
	Kind       string    `parquet:"kind,dict"`
	Severity   string    `parquet:"severity,dict"`
	Sender     string    `parquet:"sender,dict"`
	Detail     string    `parquet:"detail"`
	Related    []int64   `parquet:"related,list"`
	ClientIP   string    `parquet:"client_ip,dict"`
	ClientPort int32     `parquet:"client_port"`
	ServerIP   string    `parquet:"server_ip,dict"`
	ServerPort int32     `parquet:"server_port"`
}

// Reset is a row of resets.parquet.
type Reset struct {
	Capture        string    `parquet:"capture,dict"`
	Conn           int64     `parquet:"conn"`
	Frame          int64     `parquet:"frame"`
	Time           time.Time `parquet:"time,timestamp(microsecond)"`
	Sender         string    `parquet:"sender,dict"`
	SenderState    string    `parquet:"sender_state,dict"`
	ReceiverState  string    `parquet:"receiver_state,dict"`
	Verdict        string    `parquet:"verdict,dict"`
	Accepted       string    `parquet:"accepted,dict"`
	Cause          string    `parquet:"cause,dict"`
	Detail         string    `parquet:"detail"`
	LinuxReason    string    `parquet:"linux_reason,dict"`
	KernelReason   string    `parquet:"kernel_reason,dict"`
	FollowsFrame   int64     `parquet:"follows_frame"`
	ForgedSignals  int32     `parquet:"forged_signals"`
	AppSees        string    `parquet:"app_sees"`
	Seq            int64     `parquet:"seq"`
	ExpectedSeq    int64     `parquet:"expected_seq"`
	ChallengeACK   int64     `parquet:"challenge_ack_frame"`
	ClientIP       string    `parquet:"client_ip,dict"`
	ClientPort     int32     `parquet:"client_port"`
	ServerIP       string    `parquet:"server_ip,dict"`
	ServerPort     int32     `parquet:"server_port"`
	ConnState      string    `parquet:"conn_state,dict"`
	ConnFirstFrame int64     `parquet:"conn_first_frame"`
}

// ErrExists is returned by Create when a table is already in the directory
// and force is not set.
var ErrExists = errors.New("already exists (--force replaces it)")

// Writer writes the three tables of one run.
type Writer struct {
	dir     string
	capture string
	files   []string
	tmp     [3]*os.File
	conns   *parquet.GenericWriter[Conn]
	anoms   *parquet.GenericWriter[Anomaly]
	resets  *parquet.GenericWriter[Reset]
	held    pending
	late    int
	lastID  int
	began   bool
	counts  [3]int64 // rows written per table
	err     error
}

// Create makes dir if it is missing and opens the three tables in it, as
// temporary files until Finish. Without force it refuses to replace a
// table that is there already (the error wraps ErrExists).
func Create(dir string, force bool) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if !force {
		for _, f := range Files {
			p := filepath.Join(dir, f)
			if _, err := os.Lstat(p); err == nil {
				return nil, fmt.Errorf("%s %w", p, ErrExists)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
	}
	w := &Writer{dir: dir}
	for i, f := range Files {
		t, err := os.CreateTemp(dir, "."+f+".*.tmp")
		if err != nil {
			w.Abort()
			return nil, err
		}
		w.tmp[i] = t
	}
	opts := []parquet.WriterOption{
		parquet.CreatedBy("tcptrace", "1", "-"),
		parquet.Compression(&parquet.Zstd),
		parquet.MaxRowsPerRowGroup(RowGroupRows),
	}
	w.conns = parquet.NewGenericWriter[Conn](w.tmp[0], opts...)
	w.anoms = parquet.NewGenericWriter[Anomaly](w.tmp[1], opts...)
	w.resets = parquet.NewGenericWriter[Reset](w.tmp[2], opts...)
	return w, nil
}

// SetInputs names the run's captures: the capture column holds them, joined
// by ", ", and file the one a row's frame is in.
func (w *Writer) SetInputs(names []string) {
	w.files = names
	w.capture = strings.Join(names, ", ")
}

// Conn takes a finished connection and its anomalies.
func (w *Writer) Conn(c *report.Conn, anoms []*report.Anomaly) {
	p := w.rows(c, anoms)
	if w.began && c.ID < w.lastID {
		w.late++
		w.write(p)
		return
	}
	heap.Push(&w.held, p)
	if len(w.held) > Window {
		w.next()
	}
}

// Rows returns the rows written to each table: connections, anomalies,
// resets.
func (w *Writer) Rows() (conns, anomalies, resets int64) {
	return w.counts[0], w.counts[1], w.counts[2]
}

// Late is the number of connections written after a higher ID.
func (w *Writer) Late() int { return w.late }

func (w *Writer) next() {
	p := heap.Pop(&w.held).(*connRows)
	w.lastID, w.began = int(p.conn.ID), true
	w.write(p)
}

func (w *Writer) write(p *connRows) {
	if w.err != nil {
		return
	}
	w.counts[0]++
	w.counts[1] += int64(len(p.anoms))
	w.counts[2] += int64(len(p.resets))
	if _, err := w.conns.Write([]Conn{p.conn}); err != nil {
		w.err = err
		return
	}
	if len(p.anoms) > 0 {
		if _, err := w.anoms.Write(p.anoms); err != nil {
			w.err = err
			return
		}
	}
	if len(p.resets) > 0 {
		if _, err := w.resets.Write(p.resets); err != nil {
			w.err = err
		}
	}
}

// Finish writes what is held, closes the tables and renames them into
// place. On an error nothing is renamed and the temporary files are removed.
func (w *Writer) Finish() error {
	for len(w.held) > 0 {
		w.next()
	}
	err := w.err
	for i, pw := range []interface{ Close() error }{w.conns, w.anoms, w.resets} {
		if e := pw.Close(); err == nil {
			err = e
		}
		if e := w.tmp[i].Close(); err == nil {
			err = e
		}
	}
	if err != nil {
		w.Abort()
		return err
	}
	for i, f := range Files {
		// CreateTemp made it private; a table is as readable as any output.
		if err := os.Chmod(w.tmp[i].Name(), 0o644); err != nil {
			w.Abort()
			return err
		}
		if err := os.Rename(w.tmp[i].Name(), filepath.Join(w.dir, f)); err != nil {
			w.Abort()
			return err
		}
		w.tmp[i] = nil
	}
	return nil
}

// Abort removes the temporary files.
func (w *Writer) Abort() {
	for i, t := range w.tmp {
		if t != nil {
			t.Close()
			os.Remove(t.Name())
			w.tmp[i] = nil
		}
	}
}

// connRows are the rows of one connection.
type connRows struct {
	conn   Conn
	anoms  []Anomaly
	resets []Reset
}

// pending is a heap of connRows by ID.
type pending []*connRows

func (h pending) Len() int           { return len(h) }
func (h pending) Less(i, j int) bool { return h[i].conn.ID < h[j].conn.ID }
func (h pending) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pending) Push(x any)        { *h = append(*h, x.(*connRows)) }
func (h *pending) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// file is the name of input idx (the only input when there is one).
func (w *Writer) file(idx int) string {
	if idx >= 0 && idx < len(w.files) {
		return w.files[idx]
	}
	return ""
}

// endpoint splits "ip:port" into its address and port.
func endpoint(s string) (string, int32) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return s, 0
	}
	return ap.Addr().String(), int32(ap.Port())
}

func utc(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// rows converts a connection and its anomalies into table rows.
func (w *Writer) rows(c *report.Conn, anoms []*report.Anomaly) *connRows {
	cip, cport := endpoint(c.Client)
	sip, sport := endpoint(c.Server)
	p := &connRows{}
	r := Conn{
		Capture: w.capture, File: w.file(c.FirstIdx), ID: int64(c.ID), UID: render.ZeekUID(c.ID),
		ClientIP: cip, ClientPort: cport, ServerIP: sip, ServerPort: sport,
		VLAN: c.VLAN, RoleBy: string(c.RoleBy), FirstFrame: c.FirstFrame, LastFile: w.file(c.LastIdx), LastFrame: c.LastFrame,
		Start: utc(c.StartNS), StartNS: c.StartNS, Duration: c.Duration,
		PacketsClient: c.Packets.Client, PacketsServer: c.Packets.Server, BytesClient: c.Bytes.Client, BytesServer: c.Bytes.Server,
		SYNClient: c.SYN.Client, SYNServer: c.SYN.Server, FINClient: c.FIN.Client, FINServer: c.FIN.Server,
		RSTClient: c.RST.Client, RSTServer: c.RST.Server,
		State: c.State, ClosedBy: c.ClosedBy, ClientState: c.ClientState, ServerState: c.ServerState,
		ConnState: c.ConnState, History: c.History, ZeekFlipped: c.ZeekFlipped, RTTms: c.RTTms,
		Anomalies: c.Anomalies, Resets: int64(len(c.Resets)),
		Truncated: c.Truncated, Reused: c.Reused, Evicted: c.Evicted, CaptureLoss: c.CaptureLoss,
	}
	if r.RoleBy == "" {
		r.RoleBy = "syn"
	}
	if c.Handshake != nil {
		r.Handshake = c.Handshake.Class
	}
	if c.Close != nil {
		r.Close = c.Close.Class
	}
	for _, n := range c.Anomalies {
		r.AnomalyCount += n
	}
	if ra := c.Reassembly; ra != nil {
		r.DelivClient, r.DelivServer = ra.Client.Delivered, ra.Server.Delivered
		r.GapClient, r.GapServer = ra.Client.GapBytes, ra.Server.GapBytes
	}
	for i := range c.Resets {
		x := &c.Resets[i]
		if r.ResetCause == "" {
			r.ResetCause = x.Cause
		}
		forged := int32(0)
		for _, s := range x.Signals {
			if s.Forged {
				forged++
			}
		}
		p.resets = append(p.resets, Reset{
			Capture: w.capture, Conn: int64(c.ID), Frame: x.Frame, Time: utc(x.TS),
			Sender: x.Sender, SenderState: x.SenderState, ReceiverState: x.ReceiverState, Verdict: x.Verdict,
			Accepted: x.Accepted, Cause: x.Cause, Detail: x.Detail, LinuxReason: x.LinuxReason, KernelReason: x.KernelReason,
			FollowsFrame: x.FollowsFrame, ForgedSignals: forged, AppSees: x.AppSees,
			Seq: int64(x.Seq), ExpectedSeq: int64(x.Expected), ChallengeACK: x.ChallengeACK,
			ClientIP: cip, ClientPort: cport, ServerIP: sip, ServerPort: sport,
			ConnState: c.ConnState, ConnFirstFrame: c.FirstFrame,
		})
	}
	p.conn = r
	for _, a := range anoms {
		p.anoms = append(p.anoms, Anomaly{
			Capture: w.capture, File: w.file(a.FileIdx), Conn: int64(a.Conn), Frame: a.Frame, Time: utc(a.TS),
			Kind: a.Kind, Severity: a.Severity, Sender: a.Dir, Detail: a.Detail, Related: a.Related,
			ClientIP: cip, ClientPort: cport, ServerIP: sip, ServerPort: sport,
		})
	}
	return p
}
