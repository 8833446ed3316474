#!/usr/bin/env bash
# bench/ab.sh A B [N] - CPU time (user+sys) of two tcptrace binaries on the
# same capture, in N interleaved pairs of runs (A, B, A, B, ...), so that
# whatever else the machine is doing falls on both alike; prints the
# minimum, median and maximum of each. CAPTURE defaults to
# bench/data/real-lo.pcap; the command is analyze --format json.
#
#   go build -o /tmp/before ./cmd/tcptrace   # on the old commit
#   go build -o /tmp/after ./cmd/tcptrace    # on the new one
#   bench/ab.sh /tmp/before /tmp/after 11
set -euo pipefail
a=$1 b=$2 n=${3:-7}
cap=${CAPTURE:-$(cd "$(dirname "$0")" && pwd)/data/real-lo.pcap}
out=$(mktemp)
trap 'rm -f "$out" "$out.t"' EXIT
for ((i = 0; i < n; i++)); do
	for x in A B; do
		bin=$a
		[[ $x == B ]] && bin=$b
		/usr/bin/time -f '%U %S' -o "$out.t" "$bin" analyze --format json --progress never "$cap" >/dev/null
		awk -v x=$x '{printf "%s %.2f\n", x, $1 + $2}' "$out.t" >>"$out"
	done
done
for x in A B; do
	grep "^$x " "$out" | sort -k2 -n | awk -v x=$x '{c[NR] = $2} END {printf "%s cpu min %.2f median %.2f max %.2f (n=%d)\n", x, c[1], c[int((NR + 1) / 2)], c[NR], NR}'
done
