package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"
	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/internal/kernelev"
	"github.com/tcptrace/tcptrace/report"
)

// kernelFlags are the options that read the kernel's own record of its
// resets (tcp:tcp_send_reset), recorded on the host where they happened.
type kernelFlags struct {
	Events string        // --kernel-events FILE
	Offset time.Duration // --kernel-clock-offset
}

func (k *kernelFlags) add(f *pflag.FlagSet) {
	f.StringVar(&k.Events, "kernel-events", "", "the kernel's record of its TCP resets (ftrace text of tcp:tcp_send_reset…, docs/kernel.md): each RST gets kernel_reason and kernel_state")
	f.DurationVar(&k.Offset, "kernel-clock-offset", 0, "added to the trace's times to reach the capture's clock (e.g. -37s for a trace in clock tai on a host whose TAI offset is set)")
}

// joiner reads the trace, or returns nil when none was asked for. A trace
// that cannot be read is an unreadable input (exit 2), named with its line.
func (k *kernelFlags) joiner() (*analyze.KernelJoiner, error) {
	if k.Events == "" {
		return nil, nil
	}
	f, err := os.Open(k.Events)
	if err != nil {
		return nil, &ExitError{Code: ExitUnreadable, Err: fmt.Errorf("--kernel-events: %w", err)}
	}
	defer f.Close()
	evs, err := kernelev.Parse(f)
	if err != nil {
		return nil, &ExitError{Code: ExitUnreadable, Err: fmt.Errorf("%s: %w", k.Events, err)}
	}
	j := analyze.NewKernelJoiner(evs)
	j.Offset = int64(k.Offset)
	return j, nil
}

// kernelSummary is what the join did, for the summary record; it warns on
// stderr when a trace with resets joined none of them (another clock?).
func kernelSummary(k *kernelFlags, j *analyze.KernelJoiner, stdio IO) *report.KernelEvents {
	if j == nil {
		return nil
	}
	if j.Events > 0 && j.Joined == 0 {
		fmt.Fprintf(stdio.Err, "tcptrace: %s: none of its %d tcp_send_reset events matches a RST of the capture: recorded on another host, or with another clock (set trace_clock to realtime or tai, or give --kernel-clock-offset)\n", k.Events, j.Events)
	}
	return j.Summary(k.Events)
}
