#!/usr/bin/env bash
# bench/live.sh - packets per second the live capture (internal/live)
# sustains on lo without kernel drops.
#
#   bench/live.sh [RATE...]        (root or CAP_NET_RAW)
#
# For each rate (packets/s; "max" lets the generator go as fast as it can,
# the default list is 100000 200000 300000 max) it runs
# BenchmarkLoopbackCapture: a generator thread floods lo with small UDP
# datagrams (sendmmsg, 64-byte payload, 106 bytes on the wire) while a
# reader thread calls Next on a default ring (16 blocks of 4 MiB, 50 ms
# block timeout, snaplen 256, a kernel filter on the port), and prints the
# rate sent, the rate captured, the reader's CPU time per packet and its
# share of a core, and the kernel's drops (tp_drops) and ring-full events
# (tp_freeze_q_cnt). The kernel's copy into the ring is charged to the
# sending CPU (lo delivers in the sender's softirq), not to the reader.
# PACKETS (default 2000000) is the number sent per rate.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKETS=${PACKETS:-2000000}
RATES=("$@")
[[ ${#RATES[@]} -gt 0 ]] || RATES=(100000 200000 300000 max)

go test -c -o /tmp/tcptrace-live.test ./internal/live
printf '%-8s %12s %12s %10s %8s %8s %10s\n' rate sent/s captured/s reader-ns cpu-% drops ring-full
for r in "${RATES[@]}"; do
	rate=$r
	[[ $r == max ]] && rate=0
	line=$(TCPTRACE_LIVE_RATE=$rate /tmp/tcptrace-live.test -test.run '^$' \
		-test.bench LoopbackCapture -test.benchtime "${PACKETS}x" | grep '^BenchmarkLoopbackCapture' || true)
	if [[ -z $line ]]; then
		echo "$r: the benchmark did not run (root or CAP_NET_RAW needed)" >&2
		exit 1
	fi
	metric() { awk -v m="$1" '{for (i = 2; i < NF; i++) if ($(i+1) == m) print $i}' <<<"$line"; }
	printf '%-8s %12.0f %12.0f %10.1f %8.1f %8.0f %10.0f\n' "$r" "$(metric sent/s)" "$(metric captured/s)" \
		"$(metric reader-ns/pkt)" "$(metric reader-cpu-%)" "$(metric drops)" "$(metric ring-full)"
done
rm -f /tmp/tcptrace-live.test
