package cli

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// needsInputs is the argument check of the commands that read captures: at
// least one (an argument or -r), else a usage error (exit 1) saying msg.
func needsInputs(msg string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(inputArgs(cmd, args)) == 0 {
			return &ExitError{Code: ExitUsage, Err: errors.New(msg)}
		}
		return nil
	}
}

// expandInputs turns directories and quoted glob patterns among the inputs
// into the capture files they hold, so that the rotated files of `tcpdump
// -C`/`-G` or a dumpcap ring buffer are analyzed as one trace (merged by
// time; frames keep their per-file numbers). A directory contributes its
// regular files whose first bytes are a pcap, pcapng or gzip magic number,
// in natural name order (trace.pcap2 before trace.pcap10); other files in it
// are skipped. A pattern that matches nothing stays as it is (and fails to
// open, naming itself).
func expandInputs(args []string) []string {
	var out []string
	for _, a := range args {
		if a == "-" {
			out = append(out, a)
			continue
		}
		if st, err := os.Stat(a); err == nil && st.IsDir() {
			out = append(out, captureFilesIn(a)...)
			continue
		} else if err == nil {
			out = append(out, a)
			continue
		}
		if strings.ContainsAny(a, "*?[") {
			if m, err := filepath.Glob(a); err == nil && len(m) > 0 {
				sortNatural(m)
				out = append(out, m...)
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

func captureFilesIn(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return []string{dir} // opening it reports the error
	}
	var files []string
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if looksLikeCapture(p) {
			files = append(files, p)
		}
	}
	sortNatural(files)
	return files
}

// looksLikeCapture checks the magic number.
func looksLikeCapture(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	if n, _ := f.Read(b[:]); n < 4 {
		return false
	}
	switch {
	case b[0] == 0x1f && b[1] == 0x8b: // gzip
		return true
	case b == [4]byte{0x0a, 0x0d, 0x0d, 0x0a}: // pcapng
		return true
	}
	for _, m := range [][4]byte{{0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, {0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d}} {
		if b == m {
			return true
		}
	}
	return false
}

// sortNatural sorts names with digit runs compared as numbers.
func sortNatural(s []string) {
	sort.SliceStable(s, func(i, j int) bool { return naturalLess(s[i], s[j]) })
}

func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
