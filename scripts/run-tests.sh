#!/usr/bin/env bash
# The CI entry (./build.sh test, .ci/run). Runs every test project as its own `dotnet test`, so that a test host killed
# by a native fault (a SIGFPE inside oneDNN, say) ends only its own project's run; then runs the parity and model tests
# (NUnit category Kernels) once more with oneDNN capped to AVX2 and the JIT's AVX-512 off. A dead test host counts as one failed test, reported
# with the test that was running and the signal. The last line is "N passed, N failed, N skipped" summed over every
# run (the CI contract); the exit status is 1 when a test failed, a test host died or a run gave no result.
# Extra arguments go to every `dotnet test` (for example: -c Release --no-build); a --filter applies to both passes
# (in the second, together with its category).
set -uo pipefail
cd "$(dirname "$0")/.."

# oneDNN has one family of kernels per instruction set, and the AVX-512 and AVX2 ones have each had faults of their
# own on the same CPU: the second pass runs the tests whose numbers come from those kernels on the AVX2 family. The
# JIT's AVX-512 is off there too, so the library's own vector kernels (PackedLinear) take their 256-bit path by default.
readonly second_pass_category=Kernels
readonly second_pass_environment=(ONEDNN_MAX_CPU_ISA=AVX2 DOTNET_EnableAVX512F=0)

mapfile -t projects < <(grep -rl --include='*.csproj' '<IsTestProject>true</IsTestProject>' tests | sort)
if [ "${#projects[@]}" -eq 0 ]; then
  echo "no test project under tests/" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

filter=""
arguments=()
while [ $# -gt 0 ]; do
  case "$1" in
    --filter) filter=${2:-}; shift; [ $# -gt 0 ] && shift ;;
    --filter=*) filter=${1#--filter=}; shift ;;
    *) arguments+=("$1"); shift ;;
  esac
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0 failed=0 skipped=0
results=()

# run LABEL PROJECT FILTER [NAME=VALUE...]: one `dotnet test` of PROJECT, its counts added to the totals.
run() {
  local label=$1 project=$2 run_filter=$3
  shift 3
  local name
  name=$(basename "$project" .csproj)
  local base="$work/${label// /-}-$name"
  local filter_arguments=()
  [ -n "$run_filter" ] && filter_arguments=(--filter "$run_filter")

  echo "-- $label: $name${1:+ ($*)}"
  # Each test appends "started NAME" and "ended NAME" to the record (tests/Shared/RunningTestRecord.cs): the test that
  # started and never ended is the one that was running when the host died. VSTest's blame collector (--blame-crash)
  # names the last test whose start had reached it through the host's message queue, which a fault right after a
  # test starts outruns (tried: it named the test before), and its crash dump of a host that loaded libtorch is
  # gigabytes. VSTest's diagnostic log at level error has the host's exit status, 128 + the signal's number.
  env "$@" IMAGECAPTIONING_TEST_RECORD="$base.record" \
    dotnet test "$project" "${arguments[@]}" "${filter_arguments[@]}" "--diag:$base.diag.txt;tracelevel=error" 2>&1 | tee "$base.log"
  local status=${PIPESTATUS[0]}

  # VSTest prints one summary per test assembly: "Passed!  - Failed: 0, Passed: 12, Skipped: 1, Total: 13, ...".
  local p f s
  read -r p f s < <(grep -E '^\s*(Passed|Failed)!\s+-\s+Failed:' "$base.log" | awk -F'[:,]' '
    { f += $2; p += $4; s += $6 } END { printf "%d %d %d\n", p, f, s }')
  local line="$label: $name: $p passed, $f failed, $s skipped"

  if grep -q 'Test host process crashed' "$base.log"; then
    local code signal running
    code=$(cat "$base".diag*.txt 2>/dev/null | grep -oE 'exited with exitcode: -?[0-9]+' | grep -oE -- '-?[0-9]+$' | grep -v '^0$' | tail -n 1)
    if [ -n "$code" ] && [ "$code" -gt 128 ] && signal=$(kill -l $((code - 128)) 2>/dev/null); then
      signal="SIG$signal (exit code $code)"
    else
      signal="an unknown cause (exit code ${code:-not logged})"
    fi
    running=$(awk '/^started /{ r[substr($0, 9)] = 1 } /^ended /{ delete r[substr($0, 7)] } END { for (t in r) print t }' "$base.record" 2>/dev/null | paste -sd ' ')
    if [ -z "$running" ]; then
      running="no test: it died between tests, after $(grep '^ended ' "$base.record" 2>/dev/null | tail -n 1 | cut -d' ' -f2- | grep . || echo 'none had ended')"
    fi
    f=$((f + 1))
    line="$line; CRASHED: the test host was killed by $signal while running $running (counted as 1 failed); the tests after it in $name did not run"
  elif [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    # A failed run without a failing test: a build error, a test host that would not start.
    f=1
    line="$line; the run failed (exit code $status) without a test result (counted as 1 failed): see its log above"
  fi
  echo "$line"
  results+=("$line")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

echo "== pass 1: every test${filter:+ (--filter $filter)}"
for project in "${projects[@]}"; do run "pass 1" "$project" "$filter"; done

second_filter="TestCategory=$second_pass_category"
[ -n "$filter" ] && second_filter="($filter)&($second_filter)"
echo "== pass 2: ${second_pass_environment[*]}, the parity and model tests (--filter $second_filter)"
for project in "${projects[@]}"; do run "pass 2 ${second_pass_environment[*]}" "$project" "$second_filter" "${second_pass_environment[@]}"; done

echo "== summary"
printf '%s\n' "${results[@]}"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
