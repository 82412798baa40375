#!/usr/bin/env bash
# bench/report_smoke.sh — the CTest bench_report_smoke: a tiny sweep of every bench program into a
# temporary folder, then bench/report.py on it, checking that the markdown block and every PNG
# chart are written (and that the text around the block survives, twice). Never touches docs/.
#   report_smoke.sh XPR_BENCH_CPU XPR_BENCH_REDUCE XPR_BENCH_COMPILE REPORT_PY
# Exit 77 (CTest: skipped) when gnuplot or python3 is missing.
set -euo pipefail
CPU="$1" REDUCE="$2" COMPILE="$3" REPORT="$4"

for tool in python3 gnuplot; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (Debian: ${tool/gnuplot/gnuplot-nox}); the bench report" \
         "cannot be drawn"
    exit 77
  fi
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/xpr-bench-report-XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/results" "$TMP/docs"
export XPR_CACHE_DIR="$TMP/kernel-cache"

TINY=(--sweep --sizes 100,2000 --point-time 0 --min-reps 1 --stream-n 65536 --stream-reps 1)
"$CPU" "${TINY[@]}" --calls 10 --csv "$TMP/results/cpu.csv" >"$TMP/cpu.log"
"$REDUCE" "${TINY[@]}" --csv "$TMP/results/reduce.csv" >"$TMP/reduce.log"
"$COMPILE" --smoke --csv "$TMP/results/compile.csv" >"$TMP/compile.log"

MD="$TMP/docs/performance.md"
printf '# Title\n\ntext before\n\n<!-- xpr_bench:begin -->\nold results\n<!-- xpr_bench:end -->\n\ntext after\n' >"$MD"
for pass in 1 2; do
  python3 "$REPORT" --results "$TMP/results" --markdown "$MD" --img-dir "$TMP/docs/img" \
    --label "smoke test, pass $pass" --command "report_smoke.sh"
done

fail() { echo "FAIL: $*"; echo "--- $MD:"; cat "$MD"; exit 1; }
grep -q '^text before$' "$MD" || fail "the text before the block was lost"
grep -q '^text after$' "$MD" || fail "the text after the block was lost"
[ "$(grep -c 'xpr_bench:begin' "$MD")" -eq 1 ] || fail "the block was not replaced in place"
grep -q 'old results' "$MD" && fail "the old block survived"
grep -q 'smoke test, pass 2' "$MD" || fail "the label is missing"
for heading in '### Headline' '### Elementwise' '### Transcendental' '### Black-Scholes' \
               '### Reductions' '### Fraction of STREAM' '### Call overhead' '### Compile latency'; do
  grep -q "^$heading" "$MD" || fail "no '$heading' section"
done
# Every case of every sweep has a row in the headline table at N = 2000.
for c in 'a + 2.5\*b' 'exp(-a\*a)\*sin(b) + log1p(c\*c)' 'Black-Scholes' 'sum(exp(a)\*b)' \
         'argmax(a)'; do
  grep -q "^| \`\{0,1\}$c.* | 2,000 |" "$MD" || fail "no headline row for $c"
done
grep -q 'WRONG' "$MD" && fail "a result is marked WRONG"

charts=0
for img in elementwise transcendental blackscholes reduction; do
  f="$TMP/docs/img/bench-throughput-$img.png"
  [ -s "$f" ] || fail "no chart $f"
  grep -q "(img/bench-throughput-$img.png)" "$MD" || fail "the chart $img is not linked"
  charts=$((charts + 1))
done
f="$TMP/docs/img/bench-stream-fraction.png"
[ -s "$f" ] || fail "no chart $f"
grep -q "(img/bench-stream-fraction.png)" "$MD" || fail "the fraction chart is not linked"
for f in "$TMP"/docs/img/*.png; do
  [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$f is not a PNG"
  [ "$(stat -c %s "$f")" -gt 5000 ] || fail "$f is suspiciously small"
done
echo "bench report: $((charts + 1)) charts and the markdown block written and checked"
