#!/usr/bin/env bash
# Soak: featx_host serving 16 threads x 10,000 requests (SOAK_REQUESTS per
# thread) of a tap-mode model (inplace_chain, 4 nodes) with a spool directory
# bounded to 100 files, no capture open (every request goes to the spool).
# Samples the host's RSS every 0.1 s and reports its growth after warm-up, and the spool's file count at the end (the bound
# must hold; the writer drops what it cannot keep up with, never the request).
#   bazel run //bench:soak
set -euo pipefail
host="$1" plugin="$2" model="$3" input="$4"
threads=16
per_thread="${SOAK_REQUESTS:-10000}"
spool=$(mktemp -d)
samples=$(mktemp)
trap 'rm -rf "$spool" "$samples"' EXIT

start=$(date +%s.%N)
"$host" --model="$model" --plugin="$plugin" --input="$input" --threads="$threads" \
  --requests=$((threads * per_thread)) --quiet --nocapture \
  --featx="--featx_mode=tap --featx_return_nodes=x,bn,add_,mul_ --featx_spool_dir=$spool --featx_spool_max_files=100" \
  >"$samples.out" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  awk -v t="$(date +%s.%N)" '/^VmRSS:/ {print t, $2}' "/proc/$pid/status" 2>/dev/null >>"$samples" || true
  sleep 0.1
done
wait "$pid" || { cat "$samples.out"; exit 1; }
end=$(date +%s.%N)
files=$(find "$spool" -type f | wc -l)
/usr/bin/python3 - "$samples" "$files" "$threads" "$per_thread" "$start" "$end" "$samples.out" <<'PY'
import sys
path, files, threads, per_thread, start, end, out = sys.argv[1:]
rows = [tuple(map(float, line.split())) for line in open(path) if line.strip()]
rss = [kb / 1024 for _, kb in rows]
if len(rss) < 4:
    sys.exit("too few RSS samples: the run was too short to soak")
warm = rss[len(rss) // 4]  # after the first quarter: model loaded, pools and queue grown
print(f"featx_host soak: {threads} threads x {per_thread} requests, tap mode on 4 nodes, spool bounded to 100 files")
print(f"  served in {float(end) - float(start):.1f} s; {len(rss)} RSS samples")
print(f"  RSS after warm-up {warm:.1f} MB, peak {max(rss):.1f} MB, at the end {rss[-1]:.1f} MB")
print(f"  growth after warm-up: {rss[-1] - warm:+.1f} MB ({(rss[-1] - warm) / warm * 100:+.1f}%)")
print(f"  spool files at the end: {files} (bound 100)")
print("  host: " + open(out).read().strip().splitlines()[-1])
PY
rm -f "$samples.out"
