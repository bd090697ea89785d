#!/usr/bin/env bash
# Balancing vs YARP vs the backends directly, measured in one interleaved session.
# Usage: bench/run.sh            (DURATION=10 ROUNDS=3 WARMUP=3 SCENARIOS="get-small-100 ..." to change)
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
for tool in wrk nginx dotnet python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench: '$tool' is missing (apt-get install wrk nginx curl python3)" >&2; exit 1; }
done
ulimit -n 65535 2>/dev/null || true

work=$(mktemp -d /tmp/balancing-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building (Release)"
dotnet build "$repo/samples/Balancing.Sample/Balancing.Sample.csproj" -c Release -v q -nologo -o "$work/balancing" >/dev/null
dotnet build "$here/Balancing.Bench.YarpHost/Balancing.Bench.YarpHost.csproj" -c Release -v q -nologo -o "$work/yarp" >/dev/null

echo "== starting backends (nginx on 127.0.0.1:9101-9103)"
mkdir -p "$work/nginx"
cp "$here/nginx/backends.conf" "$here/nginx/backend.inc" "$work/nginx/"
mkdir -p "$work/nginx/data" && head -c 65536 /dev/urandom > "$work/nginx/data/64k"
chmod -R a+rX "$work"   # nginx's worker runs unprivileged
nginx -p "$work/nginx" -c "$work/nginx/backends.conf" -g 'daemon on;'

backends="http://127.0.0.1:9101,http://127.0.0.1:9102,http://127.0.0.1:9103"
# Both proxies log at Warning: per-request console logging would measure the console, not the proxy.
common=(--Logging:LogLevel:Default=Warning --Kestrel:Limits:MaxRequestBodySize=16777216)

echo "== starting Balancing (sample host, round robin) on :8080 and YARP 2.3.0 (round robin) on :8081"
( cd "$work/balancing" && exec dotnet Balancing.Sample.dll --urls http://127.0.0.1:8080 "${common[@]}" \
    --LoadBalancer:Pools:default:Backends:b1:Address=http://127.0.0.1:9101 \
    --LoadBalancer:Pools:default:Backends:b2:Address=http://127.0.0.1:9102 \
    --LoadBalancer:Pools:default:Backends:b3:Address=http://127.0.0.1:9103 \
    --LoadBalancer:Forwarding:MaxRequestBodySize=16777216 ) > "$work/balancing.log" 2>&1 &
pids+=($!); balancing_pid=$!
( cd "$work/yarp" && exec dotnet Balancing.Bench.YarpHost.dll --urls http://127.0.0.1:8081 "${common[@]}" --Backends "$backends" ) > "$work/yarp.log" 2>&1 &
pids+=($!); yarp_pid=$!

for port in 8080 8081 9101; do
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.2; done
  curl -fsS -o /dev/null "http://127.0.0.1:$port/" || { echo "bench: nothing answers on :$port" >&2; cat "$work"/*.log >&2; exit 1; }
done
nginx_worker=$(pgrep -P "$(cat "$work/nginx/nginx.pid")" | head -1)

target_url() { case $1 in balancing) echo "http://127.0.0.1:8080";; yarp) echo "http://127.0.0.1:8081";; direct) echo "http://127.0.0.1:9101";; esac; }
target_pid() { case $1 in balancing) echo "$balancing_pid";; yarp) echo "$yarp_pid";; direct) echo "$nginx_worker";; esac; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

run_wrk() { # scenario target seconds -> wrk output
  local scenario=$1 url; url=$(target_url "$2")
  case $scenario in
    get-small-*) wrk -t"$THREADS" -c"${scenario##*-}" -d"$3"s --latency "$url/" ;;
    get-64k-*)   wrk -t"$THREADS" -c"${scenario##*-}" -d"$3"s --latency "$url/64k" ;;
    post-1m-*)   wrk -t"$THREADS" -c"${scenario##*-}" -d"$3"s --latency -s "$here/post.lua" "$url" ;;
  esac
}

rows="$here/results/latest.tsv"
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

python3 "$here/report.py" "$rows" > "$here/results/latest.md"
echo "== wrote bench/results/latest.md"
cat "$here/results/latest.md"
