#!/usr/bin/env bash
# bench/live-analyze.sh - packets per second tcptrace live sustains on lo
# while analyzing, without kernel drops, and the CPU split between the
# capture (the kernel's copy into the ring is charged to the sender on lo)
# and tcptrace.
#
#   bench/live-analyze.sh [RATE...]     (root; RATE: writes/s of bench/livegen)
#
# For each rate, livegen makes TCP traffic on lo (64 connections of 64-byte
# writes with TCP_NODELAY: about two packets per write, a write and its
# ACK) for DURATION seconds (default 10) while `tcptrace live -i lo -f 'tcp
# port 47900' --format json` analyzes it; the script prints the packets
# the kernel passed, the drops, packets/s, and tcptrace's CPU (user+sys) as a
# share of one core.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
RATES=("$@")
[[ ${#RATES[@]} -gt 0 ]] || RATES=(50000 100000 150000 0)
go build -o /tmp/tcptrace-bench ./cmd/tcptrace
go build -o /tmp/livegen ./bench/livegen
printf '%-8s %12s %10s %12s %10s %12s\n' writes/s packets dropped packets/s cpu-% conns
for r in "${RATES[@]}"; do
	out=$(mktemp)
	/usr/bin/time -f '%U %S' -o "$out.time" /tmp/tcptrace-bench live -i lo -f 'tcp port 47900' --format json \
		--kernel off --duration "$((DURATION + 2))s" >"$out" 2>"$out.err" &
	pid=$!
	sleep 1
	/tmp/livegen -rate "$r" -duration "${DURATION}s" >/dev/null
	wait $pid
	read -r user sys <"$out.time"
	tail -1 "$out" | python3 -c "
import json,sys
s=json.load(sys.stdin); l=s['live']
rec=sum(i['received'] for i in l['interfaces']); d=l['dropped']
print('%-8s %12d %10d %12.0f %10.1f %12d' % ('$r' if '$r'!='0' else 'max', rec, d, rec/($DURATION), 100*($user+$sys)/($DURATION+2), s['connections']))"
	rm -f "$out" "$out.err" "$out.time"
done
