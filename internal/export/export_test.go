package export

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	for _, tc := range []struct{ src, dst, want string }{
		{"10.0.0.1:40000", "192.0.2.10:80", "010.000.000.001.40000-192.000.002.010.00080"},
		{"[::ffff:1.2.3.4]:5", "1.2.3.4:65535", "001.002.003.004.00005-001.002.003.004.65535"},
		{"[::1]:34314", "[2001:db8::1]:443", "0000:0000:0000:0000:0000:0000:0000:0001.34314-2001:0db8:0000:0000:0000:0000:0000:0001.00443"},
		{"[fe80::1%eth0]:1", "[fe80::2%eth0]:2", "fe80:0000:0000:0000:0000:0000:0000:0001.00001-fe80:0000:0000:0000:0000:0000:0000:0002.00002"},
	} {
		got := Name(netip.MustParseAddrPort(tc.src), netip.MustParseAddrPort(tc.dst))
		if got != tc.want {
			t.Errorf("Name(%s, %s) = %s, want %s", tc.src, tc.dst, got, tc.want)
		}
		// Whatever the addresses, the name stays inside the directory.
		if !filepath.IsLocal(got) || strings.ContainsAny(got, `/\`) {
			t.Errorf("%s is not a plain file name", got)
		}
	}
}

// TestWriteRefusesEscapes: write never accepts a name with a separator or
// one that leaves the directory, whatever builds it.
func TestWriteRefusesEscapes(t *testing.T) {
	w, err := New(t.TempDir(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"../x", "a/b", "/etc/passwd", "..", ""} {
		if err := w.write(name, [][]byte{[]byte("x")}, true); err == nil {
			t.Errorf("write(%q) succeeded", name)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestEntryJSON: the hand-written encoding equals encoding/json's.
func TestEntryJSON(t *testing.T) {
	for _, e := range []Entry{
		{Conn: 3, Dir: "client", File: "a-b", Src: "10.0.0.1:1", Dst: "[::1]:2", Bytes: 12, FIN: true, FirstFrame: 1, LastFrame: 9},
		{Conn: 4, Dir: "server", Src: "x\"y", Dst: "é\n", Gaps: []GapEntry{{Offset: 1, FileOffset: 0, Len: 5, Reason: "loss"}, {Offset: 9, FileOffset: 3, Len: 1, Reason: "acked_unseen", Frame: 7}}},
		{Conn: 5, Dir: "server", Src: "a", Dst: "b", Conflicts: []ConflictEntry{{Offset: 9, FileOffset: 4, Len: 96, Kept: 5, Dropped: 7, Forged: 5, Why: "ttl 46, sender's other packets 57"},
			{Offset: 526, FileOffset: 521, Len: 40, Kept: 19, Dropped: 20, Why: "cannot tell \"which\""}}},
	} {
		want, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.appendJSON(nil); string(got) != string(want) {
			t.Errorf("appendJSON:\n got %s\nwant %s", got, want)
		}
	}
}
