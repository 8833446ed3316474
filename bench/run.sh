#!/usr/bin/env bash
# bench/run.sh - time tcptrace against its peers on one large real capture.
#
#   bench/run.sh [CAPTURE]
#
# Without CAPTURE it uses bench/data/real-lo.pcap, building it first with
# ../shared/bench/mkcapture.sh when missing (root, tcpdump, editcap; ~1 min).
# It runs, one after another on the same warm file:
#   cat (I/O floor), the bare gopacket DecodingLayerParser loop of
#   ../shared/bench/ceiling, tcptrace analyze (full analysis), C tcptrace -l,
#   tshark -q -z expert
# and prints wall time, CPU time and peak RSS of each (GNU time), then the
# ratios the performance issue asks for. Peers missing from the machine are
# skipped with a note (Debian packages: tcptrace, tshark, time).
#
# Then (unless X4=0) it checks that memory is flat in capture length: it
# builds a capture four times as long (the capture and three copies shifted
# by an hour each, mergecap -a; 4x the disk space, kept beside it) and
# compares tcptrace's peak RSS on both (target: less than 25 % more).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
CAP=${1:-$HERE/data/real-lo.pcap}
RUNS=${RUNS:-3}
TIME=/usr/bin/time

if [[ ! -f $CAP ]]; then
	echo "# $CAP missing: building it with $SHARED/bench/mkcapture.sh" >&2
	DATA=$(dirname "$CAP") "$SHARED/bench/mkcapture.sh" >&2
fi
[[ -x $TIME ]] || { echo "GNU time is needed: apt-get install time" >&2; exit 1; }

BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$BIN/tcptrace" ./cmd/tcptrace)
if [[ -d $SHARED/bench/ceiling ]]; then
	(cd "$SHARED/bench/ceiling" && go build -o "$BIN/ceiling" .) || echo "# ceiling did not build" >&2
fi

cat "$CAP" >/dev/null # warm the page cache

# measure NAME CMD...: best wall time of $RUNS runs with its CPU time, and
# the highest peak RSS of the runs.
declare -A WALL CPU RSS
measure() {
	local name=$1
	shift
	local best="" bcpu="" brss=0
	for ((i = 0; i < RUNS; i++)); do
		$TIME -o "$BIN/time.out" -f '%e %U %S %M' "$@" >/dev/null 2>&1 || true
		read -r wall user sys rss <"$BIN/time.out"
		if [[ -z $best ]] || awk "BEGIN{exit !($wall < $best)}"; then
			best=$wall
			bcpu=$(awk "BEGIN{print $user + $sys}")
		fi
		((rss > brss)) && brss=$rss # the highest peak of all runs
	done
	WALL[$name]=$best
	CPU[$name]=$bcpu
	RSS[$name]=$brss
	printf '%-22s %8.2f s wall %8.2f s cpu %9.1f MiB peak RSS\n' "$name" "$best" "$bcpu" "$(awk "BEGIN{print $brss/1024}")"
}

echo "# capture: $CAP ($(stat -c %s "$CAP") bytes), best of $RUNS runs (RSS: highest), $(nproc) CPUs, $(date -u +%F)"
measure cat cat "$CAP"
[[ -x $BIN/ceiling ]] && measure ceiling-dlp "$BIN/ceiling" -mode dlp "$CAP"
measure tcptrace-go "$BIN/tcptrace" analyze --format json --progress never "$CAP"
if command -v tcptrace >/dev/null; then measure tcptrace-C-l tcptrace -n -l "$CAP"; else echo "# C tcptrace not installed (apt-get install tcptrace)"; fi
if command -v tshark >/dev/null; then measure tshark-expert tshark -n -q -z expert -r "$CAP"; else echo "# tshark not installed"; fi

ratio() { awk "BEGIN{ if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"-\" }"; }
echo
echo "# ratios (targets of the performance issue)"
g=${WALL[tcptrace-go]}
[[ -n ${WALL[tcptrace-C-l]:-} ]] && echo "C tcptrace -l / tcptrace-go:   $(ratio "${WALL[tcptrace-C-l]}" "$g")x faster (target >= 3)"
[[ -n ${WALL[tshark-expert]:-} ]] && echo "tshark -z expert / tcptrace-go: $(ratio "${WALL[tshark-expert]}" "$g")x faster (target >= 25)"
[[ -n ${WALL[ceiling-dlp]:-} ]] && echo "tcptrace-go / ceiling-dlp:      $(ratio "$g" "${WALL[ceiling-dlp]}")x the bare decode loop (target <= 1.3)"
echo "tcptrace-go peak RSS:           $(awk "BEGIN{print ${RSS[tcptrace-go]}/1024}") MiB (target <= 128)"

[[ ${X4:-1} == 0 ]] && exit 0
X4CAP=$(dirname "$CAP")/x4/$(basename "$CAP" .pcap)-x4.pcap
if [[ ! -f $X4CAP ]]; then
	command -v editcap >/dev/null && command -v mergecap >/dev/null || { echo "# editcap/mergecap (wireshark-common) needed for the 4x capture" >&2; exit 0; }
	echo "# building $X4CAP" >&2
	mkdir -p "$(dirname "$X4CAP")"
	parts=("$CAP")
	for i in 1 2 3; do
		editcap -t $((i * 3600)) "$CAP" "$X4CAP.$i"
		parts+=("$X4CAP.$i")
	done
	mergecap -F pcap -a -w "$X4CAP" "${parts[@]}"
	rm -f "$X4CAP".[123]
fi
cat "$X4CAP" >/dev/null
echo
echo "# memory in capture length: $X4CAP ($(stat -c %s "$X4CAP") bytes)"
measure tcptrace-go-x4 "$BIN/tcptrace" analyze --format json --progress never "$X4CAP"
echo "tcptrace-go peak RSS, 4x capture: $(awk "BEGIN{printf \"%.1f\", ${RSS[tcptrace-go-x4]}/1024}") MiB, $(awk "BEGIN{printf \"%+.0f\", (${RSS[tcptrace-go-x4]}/${RSS[tcptrace-go]}-1)*100}") % (target < +25 %)"
