#!/usr/bin/env bash
# sameoutput.sh OUTDIR: runs every command of the tcptrace built from this
# checkout over the shipped scenario captures, the corpus and the kernel-truth
# capture (where ../shared is present), and writes each output (and its exit
# code) to a file under OUTDIR. A refactoring that promises "the same output,
# byte for byte" runs it before and after and compares:
#
#   scripts/sameoutput.sh /tmp/before      # on the old commit
#   scripts/sameoutput.sh /tmp/after       # on the new one
#   diff -r /tmp/before /tmp/after && echo identical
set -uo pipefail
out=${1:?usage: sameoutput.sh OUTDIR}
cd "$(dirname "$0")/.."
mkdir -p "$out"
bin=$(mktemp -d)/tcptrace
work=$(mktemp -d) # this run's export directory and cut capture: runs side by side do not meet
CGO_ENABLED=0 go build -o "$bin" ./cmd/tcptrace || exit 1
shared=../shared

captures=(testdata/pcaps/*.pcap testdata/pcaps/*.pcapng)
if [ -d "$shared/corpus/raw" ]; then
  while IFS= read -r f; do captures+=("$f"); done < <(find "$shared/corpus/raw" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' -o -name '*.trace' -o -name '*.gz' \) | sort)
fi
[ -f "$shared/kernel-truth/real-lo-kernel.pcap" ] && captures+=("$shared/kernel-truth/real-lo-kernel.pcap")

# run NAME ARGS...: stdout, stderr and the exit code of one command, in files.
run() {
  local name=$1; shift
  "$bin" "$@" >"$out/$name.out" 2>"$out/$name.err"
  echo $? >"$out/$name.rc"
}

for f in "${captures[@]}"; do
  n=$(echo "$f" | sed 's|^\.\./shared/||; s|/|_|g')
  run "$n.text" analyze --color never --progress never --anomalies "$f"
  run "$n.json" analyze --format json --progress never "$f"
  run "$n.csv" analyze --format csv --progress never "$f"
  run "$n.summary" analyze --summary --color never --progress never "$f"
  run "$n.w1" analyze --format json --workers 1 --progress never "$f"
  run "$n.resets" resets --color never --progress never "$f"
  run "$n.resets.json" resets --format json --progress never "$f"
  run "$n.resets.summary" resets --summary --color never --progress never "$f"
  run "$n.timeline" timeline --color never --progress never --conn 1-40 --width 120 "$f"
  run "$n.timeline.explain" timeline --color never --progress never --conn 1-5 --explain --no-fold --width 120 "$f"
  run "$n.timeline.json" timeline --format json --progress never --conn 1-20 "$f"
  for c in 1 2 3; do
    run "$n.follow$c" follow --color never --progress never --conn $c "$f"
    run "$n.follow$c.hex" follow --color never --progress never --as hex --conn $c "$f"
  done
  d=$work/export   # in the messages: named WORK/export at the end
  rm -rf "$d"
  "$bin" export --progress never -o "$d" "$f" >"$out/$n.export.out" 2>"$out/$n.export.err"
  echo $? >"$out/$n.export.rc"
  (cd "$d" 2>/dev/null && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) >"$out/$n.export.files"
  rm -rf "$d"
done
k=$shared/kernel-truth
if [ -f "$k/real-lo-kernel.pcap" ]; then
  run kernel.resets.json resets --format json --progress never --kernel-events "$k/real-lo-kernel.kernel-tcp.txt" "$k/real-lo-kernel.pcap"
  run kernel.analyze.json analyze --format json --progress never --kernel-events "$k/real-lo-kernel.kernel-tcp.txt" "$k/real-lo-kernel.pcap"
fi
# Errors: a missing file, a cut one.
run err.nosuch analyze --progress never /nonexistent.pcap
cut=$work/cut.pcap   # in the messages: named WORK/cut.pcap at the end
head -c 3000 testdata/pcaps/closes.pcap >"$cut"
run err.cut analyze --color never --progress never "$cut"
run err.two analyze --color never --progress never /nonexistent.pcap "$cut"
rm -f "$cut"
# The run's own directory is in some messages: name it the same in every run.
grep -rlF "$work" "$out" | xargs -r sed -i "s#$work#WORK#g"
rm -rf "$work"
echo "$(ls "$out" | wc -l) files in $out"
