#!/usr/bin/env bash
# bench/scale.sh - tcptrace on a million connections: time and peak RSS of
# every output mode, and JSON bytes per connection (the scale issue).
#
#   bench/scale.sh [N]
#
# It generates two captures of N (default 1,000,000) distinct connections
# with bench/flood (internal/pcapgen.WriteFlood): a SYN flood (one SYN each,
# 70 MB for a million) and a port scan (a SYN and its RST+ACK each), keeps
# them in bench/data, and runs `analyze` as text, --format json, --format
# csv, --summary, and `resets`, with the default --max-conns, one after
# another on the same warm file. Targets: peak RSS <= 384 MiB in every mode;
# text within 3x the time of json; JSON <= 400 bytes per connection.
# Zeek's conn.log lines of the corpus are measured beside, for scale.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
N=${1:-1000000}
TIME=/usr/bin/time
[[ -x $TIME ]] || { echo "GNU time is needed: apt-get install time" >&2; exit 1; }

BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$BIN/tcptrace" ./cmd/tcptrace && go build -o "$BIN/flood" ./bench/flood)
mkdir -p "$HERE/data"

# measure NAME CMD...: wall seconds and peak RSS (MiB) of one run, output to
# a file whose size is kept in $BIN/last.bytes.
measure() {
	local name=$1; shift
	"$TIME" -f '%e %M' -o "$BIN/time" "$@" >"$BIN/out" 2>"$BIN/err" || { echo "$name failed:"; cat "$BIN/err"; return 1; }
	read -r wall rss <"$BIN/time"
	stat -c %s "$BIN/out" >"$BIN/last.bytes"
	printf '%-34s %7.2f s wall %9.1f MiB peak RSS %12d bytes out\n' "$name" "$wall" "$(echo "$rss/1024" | bc -l)" "$(cat "$BIN/last.bytes")"
	echo "$wall" >"$BIN/last.wall"
}

for kind in syn scan; do
	cap=$HERE/data/flood-$kind-$N.pcap
	if [[ ! -f $cap ]]; then
		flag=""; [[ $kind == scan ]] && flag=-scan
		"$BIN/flood" -n "$N" $flag >"$cap"
	fi
	echo "# $kind: $N connections, $(stat -c %s "$cap") bytes ($cap)"
	measure "$kind analyze --format json" "$BIN/tcptrace" analyze --progress never --format json "$cap"
	json_wall=$(cat "$BIN/last.wall")
	conns=$(grep -c '^{"type":"conn"' "$BIN/out")
	conn_bytes=$(grep '^{"type":"conn"' "$BIN/out" | wc -c)
	measure "$kind analyze (text)" "$BIN/tcptrace" analyze --progress never --color never "$cap"
	text_wall=$(cat "$BIN/last.wall")
	measure "$kind analyze --format csv" "$BIN/tcptrace" analyze --progress never --format csv "$cap"
	measure "$kind analyze --summary" "$BIN/tcptrace" analyze --progress never --color never --summary "$cap"
	measure "$kind resets" "$BIN/tcptrace" resets --progress never --color never "$cap"
	measure "$kind resets --format json" "$BIN/tcptrace" resets --progress never --format json "$cap"
	printf '%s: JSON %d conn records, %.0f bytes each; text/json time %.2fx (target <= 3)\n' \
		"$kind" "$conns" "$(echo "$conn_bytes/$conns" | bc -l)" "$(echo "$text_wall/$json_wall" | bc -l)"
done

if compgen -G "$SHARED/corpus/oracle/zeek/*conn.log" >/dev/null; then
	grep -hv '^#' "$SHARED"/corpus/oracle/zeek/*conn.log | awk '{n++; b+=length($0)+1; if ($12=="S0") {s++; sb+=length($0)+1}} END {printf "zeek conn.log (corpus): %d lines, %.0f bytes each; S0 lines %.0f bytes each\n", n, b/n, (s? sb/s : 0)}'
fi
