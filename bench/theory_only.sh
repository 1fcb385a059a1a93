#!/usr/bin/env bash
# Times a theory-only run (kdbench --theory-only): 10^4 grid points at p = 10^5, every
# pipeline, n on a linear grid through the peak n = p. Not a test: it prints the wall
# and CPU times and what the run wrote; bench/README.md records a result.
#   bench/theory_only.sh [KDBENCH]     (default ./build/kdbench)
# The weak teacher's k is fixed (--k 1000): with k = auto every w2s point searches its
# best k, about a hundred times the cost of the other theories (bench/README.md).
set -euo pipefail
kdbench=${1:-./build/kdbench}
dir=$(mktemp -d /tmp/kdbench-theory-only.XXXXXX)
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 - "$kdbench" "$dir" <<'EOF'
import json, os, resource, subprocess, sys, time
kdbench, folder = sys.argv[1], sys.argv[2]
args = ["--sweep", "n", "--p", "100000", "--n", "50:200000:lin10000",
        "--pipelines", "strong,optimal,mask,w2s,weak", "--m", "20000", "--k", "1000",
        "--theory-only", "--quiet", "--csv", os.path.join(folder, "run.csv")]
start = time.monotonic()
subprocess.run([kdbench] + args, check=True)
wall = time.monotonic() - start
child = resource.getrusage(resource.RUSAGE_CHILDREN)
points = json.load(open(os.path.join(folder, "run.meta.json")))["points_done"]
with open(os.path.join(folder, "run.csv")) as f:
    rows = sum(1 for _ in f) - 1
print(f"theory-only: {points} points ({rows} rows) at p = 100000 in {wall:.2f} s wall, "
      f"{child.ru_utime:.2f} s user + {child.ru_stime:.2f} s sys, on {os.cpu_count()} cores "
      f"(load average {os.getloadavg()[0]:.1f} at the end)")
EOF
