package decode

import "github.com/tcptrace/tcptrace/tcp"

// ParseOptions fills o from the raw option area raw, exactly as Decode does
// (a connection kept in compact form re-derives its segments' options from
// their bytes).
func ParseOptions(raw []byte, o *tcp.Options) {
	*o = tcp.Options{Raw: raw}
	parseOptions(raw, o)
}
