package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/tcptrace/tcptrace/analyze"
)

// budgetFlags are the reassembly memory budgets, given as sizes ("8MiB").
type budgetFlags struct{ conn, global string }

func (b *budgetFlags) add(f *pflag.FlagSet) {
	f.StringVar(&b.conn, "reasm-conn-budget", "8MiB", "bytes reassembly may hold out of order per connection (beyond, the oldest is given up as a gap and counted)")
	f.StringVar(&b.global, "reasm-budget", "64MiB", "bytes reassembly may hold out of order over all connections")
}

// apply sets the budgets in cfg (empty: the defaults).
func (b *budgetFlags) apply(cfg *analyze.Config) error {
	for _, x := range []struct {
		flag, v string
		dst     *int64
	}{{"--reasm-conn-budget", b.conn, &cfg.ConnBudget}, {"--reasm-budget", b.global, &cfg.GlobalBudget}} {
		if x.v == "" {
			continue
		}
		n, err := parseSize(x.v)
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: %w", x.flag, err)}
		}
		*x.dst = n
	}
	return nil
}

// parseSize reads a byte count with an optional unit: 4096, 64KiB, 8MiB,
// 1GiB (also K, M, G and KB, MB, GB, all powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(strings.ToUpper(t), strings.ToUpper(u.suffix)) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("bad size %q (want e.g. 65536, 64KiB, 8MiB)", s)
	}
	return n * mult, nil
}
