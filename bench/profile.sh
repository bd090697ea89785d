#!/usr/bin/env bash
# Where does a proxy spend its time? Loads Balancing and YARP in turn with wrk (small GET, 100 connections) and
# records dotnet-counters (GC, allocation rate, thread pool) and, with TRACE=1, a dotnet-trace CPU sample of each.
# Usage: bench/profile.sh            (DURATION=15; needs dotnet-counters/dotnet-trace: dotnet tool install -g ...)
# Output: bench/results/profile-<target>.counters.csv (and .nettrace with TRACE=1), a summary on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
DURATION=${DURATION:-15}
THREADS=${THREADS:-2}
PATH="$PATH:$HOME/.dotnet/tools"
command -v dotnet-counters >/dev/null || { echo "profile: dotnet tool install -g dotnet-counters" >&2; exit 1; }
source "$here/setup.sh"
mkdir -p "$here/results"
for target in balancing yarp; do
  pid=$(target_pid "$target"); url=$(target_url "$target")
  wrk -t"$THREADS" -c100 -d3s "$url/" >/dev/null   # warm-up
  out="$here/results/profile-$target"
  rm -f "$out.counters.csv"
  dotnet-counters collect -p "$pid" --format csv -o "$out.counters.csv" --refresh-interval 1 \
    --counters System.Runtime --duration "00:00:00:$DURATION" >/dev/null 2>&1 &
  counters=$!
  if [ "${TRACE:-0}" = 1 ]; then
    dotnet-trace collect -p "$pid" --profile cpu-sampling --duration "00:00:00:$((DURATION / 2))" -o "$out.nettrace" >/dev/null 2>&1 &
  fi
  wrk -t"$THREADS" -c100 -d"$DURATION"s --latency "$url/" | grep -E "Requests/sec|99%"
  wait "$counters" 2>/dev/null || true
  echo "== $target (medians over the run)"
  python3 - "$out.counters.csv" <<'PY'
import csv, statistics, sys
from collections import defaultdict
values = defaultdict(list)
for row in csv.DictReader(open(sys.argv[1])):
    try:
        values[row["Counter Name"]].append(float(row["Mean/Increment"]))
    except (KeyError, ValueError):
        pass
for name in sorted(values):
    if any(k in name for k in ("gc", "alloc", "GC", "Alloc", "thread", "Thread", "lock", "Lock", "heap", "Heap", "cpu", "CPU")):
        print(f"  {name}: {statistics.median(values[name]):,.2f}")
PY
done
