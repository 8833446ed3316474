package cli

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tcptrace": func() { os.Exit(Main(os.Args[1:], StdIO())) },
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script: flags,
// outputs and exit codes, against the scenario captures of testdata/pcaps
// (available in scripts as $PCAPS).
func TestScripts(t *testing.T) {
	pcaps, err := filepath.Abs("../../testdata/pcaps")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PCAPS", pcaps)
			env.Setenv("NO_COLOR", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// garble SRC DST N: copy the Ethernet pcap SRC to DST with the IP
			// version of frame N set to 0 (a malformed frame).
			"garble": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 3 {
					ts.Fatalf("usage: garble SRC DST N")
				}
				data, err := os.ReadFile(ts.MkAbs(args[0]))
				ts.Check(err)
				n, err := strconv.Atoi(args[2])
				ts.Check(err)
				off := 24
				for i := 1; off+16 <= len(data); i++ {
					caplen := int(binary.LittleEndian.Uint32(data[off+8:]))
					if i == n {
						data[off+16+14] = 0x05 // version 0, IHL 5
						break
					}
					off += 16 + caplen
				}
				ts.Check(os.WriteFile(ts.MkAbs(args[1]), data, 0o644))
			},
			// maxwidth N FILE: no line of FILE is wider than N columns on a
			// terminal (colours aside, wide characters counting two).
			"maxwidth": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: maxwidth N FILE")
				}
				n, err := strconv.Atoi(args[0])
				ts.Check(err)
				widest, at := 0, ""
				for _, line := range strings.Split(ts.ReadFile(args[1]), "\n") {
					if w := twwidth.Width(line); w > widest {
						widest, at = w, line
					}
				}
				if (widest > n) != neg {
					ts.Fatalf("widest line: %d columns (limit %d): %q", widest, n, at)
				}
			},
			// cutfile SRC DST N: copy SRC to DST without its last N bytes.
			"cutfile": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 3 {
					ts.Fatalf("usage: cutfile SRC DST N")
				}
				data, err := os.ReadFile(ts.MkAbs(args[0]))
				ts.Check(err)
				n, err := strconv.Atoi(args[2])
				ts.Check(err)
				if n > len(data) {
					ts.Fatalf("cutfile: %s has only %d bytes", args[0], len(data))
				}
				ts.Check(os.WriteFile(ts.MkAbs(args[1]), data[:len(data)-n], 0o644))
			},
		},
	})
}
