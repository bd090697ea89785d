#!/usr/bin/env bash
# Balancing vs YARP vs the backends directly, measured in one interleaved session.
# Usage: bench/run.sh            (DURATION=10 ROUNDS=3 WARMUP=3 SCENARIOS="get-small-100 ..." to change;
#        BALANCING_ARGS="--LoadBalancer:..." adds settings to Balancing; RESULTS_NAME=x writes results/x.md)
# Needs: the .NET SDK, wrk and nginx (Debian packages: apt-get install wrk nginx).
# Writes bench/results/latest.md (and the raw rows in bench/results/latest.tsv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-3}
THREADS=${THREADS:-2}
SCENARIOS=${SCENARIOS:-"get-small-100 get-small-1000 get-64k-100 post-1m-100"}
source "$here/setup.sh"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

run_wrk() { # scenario target seconds -> wrk output
  local scenario=$1 url; url=$(target_url "$2")
  case $scenario in
    get-small-*) wrk -t"$THREADS" -c"${scenario##*-}" -d"$3"s --latency "$url/" ;;
    get-64k-*)   wrk -t"$THREADS" -c"${scenario##*-}" -d"$3"s --latency "$url/64k" ;;
    get-cached-*) wrk -t"$THREADS" -c"${scenario##*-}" -d"$3"s --latency "$url/cached" ;;   # cacheable for 300 s
    post-1m-*)   wrk -t"$THREADS" -c"${scenario##*-}" -d"$3"s --latency -s "$here/post.lua" "$url" ;;
  esac
}

name=${RESULTS_NAME:-latest}
rows="$here/results/$name.tsv"
mkdir -p "$here/results"
printf 'scenario\ttarget\tround\trps\tp50_ms\tp99_ms\tnon2xx\tsocket_errors\trequests\tcpu_s\tpeak_rss_mib\tstart_rss_mib\tend_rss_mib\n' > "$rows"

for scenario in $SCENARIOS; do
  echo "== $scenario: warm-up"
  for target in balancing yarp direct; do run_wrk "$scenario" "$target" "$WARMUP" >/dev/null; done
  for round in $(seq 1 "$ROUNDS"); do
    for target in balancing yarp direct; do
      pid=$(target_pid "$target")
      echo 5 > "/proc/$pid/clear_refs" 2>/dev/null || true   # resets the peak-RSS mark
      start_rss=$(rss_kib "$pid" VmRSS); cpu0=$(cpu_ticks "$pid")
      out=$(run_wrk "$scenario" "$target" "$DURATION")
      cpu1=$(cpu_ticks "$pid"); end_rss=$(rss_kib "$pid" VmRSS); peak=$(rss_kib "$pid" VmHWM)
      python3 "$here/parse_wrk.py" "$scenario" "$target" "$round" "$((cpu1 - cpu0))" "$(getconf CLK_TCK)" "$peak" "$start_rss" "$end_rss" <<< "$out" >> "$rows"
      tail -n 1 "$rows"
    done
  done
done

BALANCING_ARGS="${BALANCING_ARGS:-}" python3 "$here/report.py" "$rows" > "$here/results/$name.md"
echo "== wrote bench/results/$name.md"
cat "$here/results/$name.md"
