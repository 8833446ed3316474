#!/usr/bin/env bash
# scripts/man.sh - regenerate docs/man (one man page per command) from the
# commands' help. CI checks they are in step (TestManPages).
#   man -l docs/man/tcptrace-analyze.1
set -euo pipefail
cd "$(dirname "$0")/.."
go test ./internal/cli -run '^TestManPages$' -count=1 -update-man
ls docs/man
