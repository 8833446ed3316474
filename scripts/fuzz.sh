#!/usr/bin/env bash
# scripts/fuzz.sh - run every fuzz target for a while and report the exec counts.
#
#   FUZZTIME=10m JOBS=2 [MINTIME=5s] scripts/fuzz.sh [TARGET...]
#
# MINTIME bounds the minimization of each new interesting input (go test's
# -fuzzminimizetime, 60 s by default): with the default, a short run spends
# its time minimizing the first finds instead of fuzzing (FuzzEngine made 216
# execs in 10 s; with 1 s, 318 per second once the seeds are in).
# Targets are "package:Func". Crashers land in the package's testdata/fuzz/
# and become regression tests that `go test ./...` runs. Each target runs
# with -parallel 1; JOBS targets run at once (default: the number of CPUs).
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10m}
MINTIME=${MINTIME:-5s}
JOBS=${JOBS:-$(nproc)}
TARGETS=("$@")
if [[ ${#TARGETS[@]} -eq 0 ]]; then
	TARGETS=(
		./internal/capture:FuzzPcap ./internal/capture:FuzzPcapng ./internal/capture:FuzzGzip
		./internal/decode:FuzzDecode ./internal/decode:FuzzDefrag ./internal/filter:FuzzCompile ./internal/bpf:FuzzCompile
		./reassembly:FuzzStream ./analyze:FuzzEngine ./internal/kernelev:FuzzParse ./internal/live:FuzzRingBlock
	)
fi
LOG=$(mktemp -d)
run() {
	local pkg=${1%%:*} fn=${1##*:}
	go test "$pkg" -run '^$' -fuzz "^$fn\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$MINTIME" -parallel 1 >"$LOG/$fn.log" 2>&1
	local rc=$?
	local last
	last=$(grep -E 'execs: [0-9]+' "$LOG/$fn.log" | tail -1 | sed -E 's/.*execs: ([0-9]+).*/\1/')
	printf '%-12s %-22s %12s execs  %s\n' "$fn" "$pkg" "${last:-?}" "$([[ $rc == 0 ]] && echo ok || echo "FAILED (see $LOG/$fn.log)")"
}
export -f run
export FUZZTIME MINTIME LOG
printf '%s\n' "${TARGETS[@]}" | xargs -P "$JOBS" -I{} bash -c 'run {}'
