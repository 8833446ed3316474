package render

import "github.com/fatih/color"

// The colours of every text renderer. Whether to colour is decided once by
// the CLI (Options.Color) and applied by paint, whatever fatih/color guesses
// from the terminal.
var (
	boldColor  = color.New(color.Bold)
	faintColor = color.New(color.Faint)
	errColor   = color.New(color.FgRed)
	// dirColors are Wireshark's Follow colours: client red, server blue.
	dirColors = [2]*color.Color{color.New(color.FgRed), color.New(color.FgBlue)}
	// sevColors colour anomalies by severity.
	sevColors = map[string]*color.Color{
		"error": color.New(color.FgRed, color.Bold), "warn": color.New(color.FgYellow),
		"note": color.New(color.FgCyan), "chat": faintColor,
	}
	// causeColors colour the causes of RSTs (tcptrace resets).
	causeColors = map[string]*color.Color{
		"refused": color.New(color.FgYellow), "abort": color.New(color.FgRed), "reset-after-close": color.New(color.FgMagenta),
		"middlebox-suspect": color.New(color.FgRed, color.Bold), "half-open": color.New(color.FgRed), "idle-timeout-suspect": color.New(color.FgRed),
		"retransmission-timeout": color.New(color.FgRed),
	}
	// forgedColors colour a RST's signals: for a forgery, against one.
	forgedColors = map[bool]*color.Color{true: color.New(color.FgRed), false: color.New(color.FgGreen)}
)

// paint colours s with c when on (and c is set).
func paint(on bool, c *color.Color, s string) string {
	if !on || c == nil {
		return s
	}
	c.EnableColor()
	return c.Sprint(s)
}
