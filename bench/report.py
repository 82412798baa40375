#!/usr/bin/env python3
"""bench/report.py — turns the sweep CSVs of scripts/bench.sh into markdown tables and PNG charts.

    bench/report.py --results DIR --markdown FILE --img-dir DIR [--label TEXT] [--command TEXT]

Reads DIR/cpu.csv (xpr_bench_cpu --sweep), DIR/reduce.csv (xpr_bench_reduce --sweep) and
DIR/compile.csv (xpr_bench_compile --csv); a missing file leaves its section out. Writes the
results between the markers <!-- xpr_bench:begin --> and <!-- xpr_bench:end --> of FILE (the
text around them is kept; without markers the block is appended, and a missing FILE is created),
and draws the charts with gnuplot (Debian: gnuplot-nox) into --img-dir as bench-*.png, linked
from the markdown by their path relative to FILE. Only the Python standard library is used.

Exit status: 0 when the report and every chart were written; 1 on a missing or malformed input
or a failed gnuplot; 2 for bad arguments; 77 when gnuplot is not installed (nothing written).
"""

import argparse
import csv
import math
import os
import shutil
import subprocess
import sys
import tempfile

BEGIN = "<!-- xpr_bench:begin -->"
END = "<!-- xpr_bench:end -->"

# How each implementation is called in tables and legends, in the order they are shown.
IMPLS = [
    ("xpr", "xpr"),
    ("xpr-1t", "xpr, 1 thread"),
    ("hand", "hand loop (OpenMP)"),
    ("eigen", "Eigen, 1 thread"),
]
SUITES = [
    ("elementwise", "Elementwise (memory-bound)"),
    ("transcendental", "Transcendental"),
    ("blackscholes", "Black-Scholes"),
    ("reduction", "Reductions"),
]
# The issue-3 targets, by suite: memory-bound expressions at >= 90% of STREAM, transcendental ones
# no slower than the hand loop. Reductions have none of their own.
TARGETS = {
    "elementwise": ("frac", 0.90, ">= 90% of STREAM"),
    "transcendental": ("ratio", 1.0, "xpr/hand <= 1"),
    "blackscholes": ("ratio", 1.0, "xpr/hand <= 1"),
}


class Sweep:
    """One program's sweep CSV: '# key: value' lines, then one row per measurement."""

    def __init__(self, path):
        self.path = path
        self.meta = {}
        self.rows = []
        with open(path, newline="", encoding="utf-8") as f:
            lines = []
            for line in f:
                if line.startswith("# "):
                    key, _, value = line[2:].rstrip("\n").partition(": ")
                    self.meta[key] = value
                else:
                    lines.append(line)
        for r in csv.DictReader(lines):
            try:
                r["n"] = int(r["n"])
                r["threads"] = int(r["threads"])
                r["reps"] = int(r["reps"])
                for k in ("seconds", "p10_s", "p90_s", "bytes"):
                    r[k] = float(r[k])
            except (KeyError, ValueError, TypeError) as e:
                raise SystemExit(f"report.py: {path}: malformed row {r}: {e}")
            self.rows.append(r)
        if not self.rows:
            raise SystemExit(f"report.py: {path}: no measurements")
        try:
            self.stream_gbs = float(self.meta["stream_gbs"])
        except (KeyError, ValueError):
            raise SystemExit(f"report.py: {path}: no '# stream_gbs:' line")
        self.index = {(r["suite"], r["case"], r["impl"], r["n"]): r for r in self.rows}

    def cases(self, suite):
        seen = []
        for r in self.rows:
            if r["suite"] == suite and r["case"] not in seen:
                seen.append(r["case"])
        return seen

    def sizes(self, suite=None):
        """The N values of one suite, or of every measured case (not STREAM, not calls)."""
        if suite is None:
            return sorted({r["n"] for r in self.rows if r["suite"] not in ("stream", "calls")})
        return sorted({r["n"] for r in self.rows if r["suite"] == suite})

    def get(self, suite, case, impl, n):
        return self.index.get((suite, case, impl, n))

    def gbs(self, row):
        return row["bytes"] / row["seconds"] / 1e9 if row and row["seconds"] > 0 else math.nan


def load(path):
    return Sweep(path) if os.path.exists(path) else None


# ------------------------------------------------------------------------------------------------
# Formatting


def fmt_time(s):
    """Seconds as µs or ms with 3-4 significant digits."""
    if s is None or not math.isfinite(s):
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs" if s * 1e6 < 100 else f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms" if s * 1e3 < 100 else f"{s * 1e3:.0f} ms"
    return f"{s:.3g} s"


def fmt_num(x, digits=2):
    return "-" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def fmt_pct(x):
    return "-" if x is None or not math.isfinite(x) else f"{100 * x:.0f}%"


def fmt_n(n):
    e = math.log10(n) if n > 0 else 0
    return f"10^{round(e)}" if n > 0 and abs(e - round(e)) < 1e-9 else f"{n:,}"


def code(name):
    return name if name.startswith("Black-Scholes") else f"`{name}`"


def ratio(a, b):
    if not a or not b or not (a["seconds"] > 0 and b["seconds"] > 0):
        return math.nan
    return a["seconds"] / b["seconds"]


def table(header, rows, align):
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


# ------------------------------------------------------------------------------------------------
# Markdown


def context_lines(cpu, red, comp, args):
    out = []
    main = cpu or red
    if main:
        m = main.meta
        out.append(f"- date: {m.get('date', '?')}; machine: {m.get('machine', '?')}")
        out.append(f"- xpr library build: {m.get('xpr_build', '?')}; xpr threads: "
                   f"{m.get('xpr_threads', '?')}; precision: {m.get('xpr_precision', 'accurate')}")
        if "hand_flags" in m:
            out.append(f"- hand loops: {m['hand_flags']}, {m.get('hand_threads', '?')} OpenMP "
                       f"threads; their libm calls after vectorization: {m.get('hand_libm', '?')}")
        out.append(f"- Eigen: {m.get('eigen', '?')}")
        if "timing" in m:
            out.append(f"- timing: {m['timing']}")
    for name, s in (("xpr_bench_cpu", cpu), ("xpr_bench_reduce", red)):
        if s:
            mib = int(s.meta.get("stream_n", "0")) * 4 / 2**20
            size = f"{mib:.0f} MiB" if mib >= 10 else f"{mib * 1024:.0f} KiB"
            out.append(f"- STREAM triad measured by {name} in the same run (3 arrays of {size} "
                       f"each, best of several): **{s.stream_gbs:.2f} GB/s**")
    if comp:
        target = comp["meta"].get("target", "?").split(" features=")[0]
        out.append(f"- compile latency: median of {comp['meta'].get('reps', '?')} per expression; "
                   f"JIT target {target}")
    out.append(f"- command: `{args.command}`; raw data: `{os.path.basename(args.results)}/*.csv`")
    return out


def headline(cpu, red, sizes):
    """The table of the issue: time, GB/s, % of STREAM, xpr/hand, xpr/Eigen at the largest N."""
    hdr = ["case", "N", "xpr", "xpr GB/s", "% of STREAM", "hand", "xpr/hand", "Eigen",
           "xpr/Eigen", "xpr 1-thr/Eigen", "check", "target"]
    rows = []
    for sweep in (cpu, red):
        if not sweep:
            continue
        for suite, _ in SUITES:
            for case in sweep.cases(suite):
                for n in sizes:
                    x = sweep.get(suite, case, "xpr", n)
                    if not x:
                        continue
                    h = sweep.get(suite, case, "hand", n)
                    e = sweep.get(suite, case, "eigen", n)
                    x1 = sweep.get(suite, case, "xpr-1t", n)
                    frac = sweep.gbs(x) / sweep.stream_gbs
                    r = ratio(x, h)
                    checks = {row["check"] for row in (x, x1, e) if row}
                    check = "WRONG" if "WRONG" in checks else "ok"
                    tgt = "-"
                    llc = int(sweep.meta.get("llc_bytes", "0") or 0)
                    if suite in TARGETS:
                        kind, bound, text = TARGETS[suite]
                        met = (frac >= bound) if kind == "frac" else (r <= bound)
                        tgt = f"{text}: {'**met**' if met and check == 'ok' else 'missed'}"
                        if kind == "frac" and x["bytes"] < 2 * llc:
                            # A bandwidth target is about DRAM; in cache it says nothing.
                            tgt = f"{text}: n/a (in cache)"
                    rows.append([code(case), fmt_n(n), fmt_time(x["seconds"]),
                                 fmt_num(sweep.gbs(x), 1), fmt_pct(frac),
                                 fmt_time(h["seconds"] if h else None), fmt_num(r),
                                 fmt_time(e["seconds"] if e else None), fmt_num(ratio(x, e)),
                                 fmt_num(ratio(x1, e)), check, tgt])
    return table(hdr, rows, ["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:",
                             "---:", "---", "---"])


def sweep_tables(sweep, suite):
    out = []
    triad = {r["n"]: r for r in sweep.rows if r["suite"] == "stream" and r["case"] == "triad@N"}
    for case in sweep.cases(suite):
        out += ["", f"**{code(case)}**", ""]
        hdr = ["N"] + [label for _, label in IMPLS] + ["xpr GB/s", "% of STREAM"]
        if triad:
            hdr.append("triad@N GB/s")
        hdr += ["xpr/hand", "xpr/Eigen"]
        rows = []
        for n in sweep.sizes(suite):
            got = {impl: sweep.get(suite, case, impl, n) for impl, _ in IMPLS}
            x = got["xpr"]
            if not any(got.values()):
                continue
            row = [fmt_n(n)]
            for impl, _ in IMPLS:
                g = got[impl]
                cell = fmt_time(g["seconds"]) if g else "-"
                row.append(cell + (" WRONG" if g and g["check"] == "WRONG" else ""))
            row += [fmt_num(sweep.gbs(x), 2), fmt_pct(sweep.gbs(x) / sweep.stream_gbs)]
            if triad:
                row.append(fmt_num(sweep.gbs(triad.get(n)), 2))
            row += [fmt_num(ratio(x, got["hand"])), fmt_num(ratio(x, got["eigen"]))]
            rows.append(row)
        out += table(hdr, rows, ["---:"] * len(hdr))
    return out


def calls_table(cpu):
    rows = [r for r in cpu.rows if r["suite"] == "calls"]
    if not rows:
        return []
    out = [f"Call overhead, `a + 2.5*b` in f32, median of {rows[0]['reps']} calls, everything "
           "included:", ""]
    body = []
    for r in rows:
        med = r["seconds"] * 1e6
        tgt = ("<= 2 µs: **met**" if med <= 2.0 else "<= 2 µs: missed") if r["n"] == 1000 else "-"
        body.append([f"`{r['case']}`", str(r["n"]), f"{med:.2f}", f"{r['p10_s'] * 1e6:.2f}",
                     f"{r['p90_s'] * 1e6:.2f}", r["check"], tgt])
    return out + table(["call", "N", "median µs", "p10 µs", "p90 µs", "check", "target"], body,
                       ["---", "---:", "---:", "---:", "---:", "---", "---"])


def load_compile(path):
    if not os.path.exists(path):
        return None
    meta, lines = {}, []
    with open(path, newline="", encoding="utf-8") as f:
        for line in f:
            if line.startswith("# "):
                k, _, v = line[2:].rstrip("\n").partition(": ")
                meta[k] = v
            else:
                lines.append(line)
    rows = list(csv.DictReader(lines))
    if not rows:
        raise SystemExit(f"report.py: {path}: no measurements")
    for r in rows:
        for k in r:
            if k not in ("pipeline", "expr"):
                try:
                    r[k] = float(r[k])
                except (TypeError, ValueError):
                    raise SystemExit(f"report.py: {path}: malformed row {r}")
    return {"meta": meta, "rows": rows}


def median(v):
    v = sorted(v)
    n = len(v)
    return math.nan if n == 0 else (v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2]))


def compile_tables(comp):
    rows = comp["rows"]
    out = []
    for pipe in dict.fromkeys(r["pipeline"] for r in rows):
        rs = [r for r in rows if r["pipeline"] == pipe]
        med = {k: median([r[k] for r in rs]) for k in ("cold_ms", "cold_cpu_ms", "disk_ms",
                                                         "disk_kernel_ms", "mem_us")}
        out += [f"LLVM pipeline `{pipe}`, {len(rs)} expressions of "
                f"{int(min(r['ops'] for r in rs))} to {int(max(r['ops'] for r in rs))} operations. "
                f"Median over the corpus: cold compile **{med['cold_ms']:.2f} ms** wall "
                f"({med['cold_cpu_ms']:.2f} ms thread CPU; target <= 10 ms), on-disk hit "
                f"**{med['disk_ms']:.3f} ms** ({med['disk_kernel_ms']:.3f} ms kernel read and load; "
                f"target <= 0.5 ms), in-memory hit **{med['mem_us']:.2f} µs** (target <= 2 µs).",
                ""]
        body = []
        for r in rs:
            e = r["expr"] if len(r["expr"]) <= 60 else r["expr"][:57] + "..."
            body.append([str(int(r["index"])), str(int(r["ops"])), f"{r['cold_ms']:.2f}",
                         f"{r['cold_cpu_ms']:.2f}", f"{r['disk_ms']:.3f}", f"{r['mem_us']:.2f}",
                         f"`{e}`"])
        out += table(["#", "ops", "cold ms", "cold CPU ms", "disk hit ms", "memory hit µs",
                      "expression"], body, ["---:"] * 6 + ["---"])
    return out


# ------------------------------------------------------------------------------------------------
# Charts (gnuplot)


def gp_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("`", "'") + '"'


def write_dat(path, points):
    with open(path, "w", encoding="utf-8") as f:
        for x, y in points:
            if math.isfinite(y) and y > 0:
                f.write(f"{x} {y:.9g}\n")
    return any(math.isfinite(y) and y > 0 for _, y in points)


STYLE = {
    "xpr": 'lw 2.5 pt 7 ps 0.9 lc rgb "#d62728"',
    "xpr-1t": 'lw 1.5 pt 6 ps 0.9 dt 2 lc rgb "#d62728"',
    "hand": 'lw 2 pt 5 ps 0.8 lc rgb "#1f77b4"',
    "eigen": 'lw 2 pt 9 ps 0.9 lc rgb "#2ca02c"',
    "triad": 'lw 1.2 dt 3 pt 0 lc rgb "#555555"',
}


def throughput_chart(sweep, suite, title, img, work, triad_sweep):
    """One panel per case: GB/s against N, log-log, a line per implementation, and the triad."""
    cases = sweep.cases(suite)
    if not cases:
        return None
    cols = min(3, len(cases))
    nrows = (len(cases) + cols - 1) // cols
    script = [f"set terminal pngcairo size {460 * cols},{380 * nrows} font 'sans,10'",
              f"set output {gp_quote(img)}",
              f"set multiplot layout {nrows},{cols} title {gp_quote(title)}",
              "set logscale xy", "set format x '10^{%L}'", "set grid",
              "set autoscale xfix", "set offsets graph 0.03, graph 0.03, 0, 0",
              "set xlabel 'N (f32 elements)'", "set ylabel 'GB/s (bytes read + written / time)'",
              "set key bottom right font ',8' samplen 2 opaque box"]
    triad = []
    if triad_sweep:
        triad = [(r["n"], triad_sweep.gbs(r)) for r in triad_sweep.rows
                 if r["suite"] == "stream" and r["case"] == "triad@N"]
    for k, case in enumerate(cases):
        plots = []
        for impl, label in IMPLS:
            pts = [(n, sweep.gbs(sweep.get(suite, case, impl, n))) for n in sweep.sizes(suite)
                   if sweep.get(suite, case, impl, n)]
            dat = os.path.join(work, f"{suite}-{k}-{impl}.dat")
            if write_dat(dat, pts):
                plots.append(f"{gp_quote(dat)} using 1:2 with linespoints {STYLE[impl]} "
                             f"title {gp_quote(label)}")
        if triad:
            dat = os.path.join(work, f"{suite}-{k}-triad.dat")
            if write_dat(dat, sorted(triad)):
                plots.append(f"{gp_quote(dat)} using 1:2 with lines {STYLE['triad']} "
                             "title 'STREAM triad at N'")
        plots.append(f"{sweep.stream_gbs:.6g} with lines lw 1.5 lc rgb '#999999' "
                     "title 'STREAM triad (DRAM)'")
        script.append(f"set title {gp_quote(case)} font ',10'")
        script.append("plot " + ", \\\n     ".join(plots))
    script.append("unset multiplot")
    return script


def fraction_chart(cpu, red, img, work):
    """xpr's bandwidth as a fraction of STREAM against N: memory-bound cases, then the rest."""
    groups = [("memory-bound (elementwise, reductions) against N", [(cpu, "elementwise"),
                                                                     (red, "reduction")]),
              ("compute-bound (transcendental, Black-Scholes) against N",
               [(cpu, "transcendental"), (cpu, "blackscholes")])]
    colors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
              "#17becf", "#bcbd22", "#7f7f7f"]
    script = [f"set terminal pngcairo size 1200,560 font 'sans,10'",
              f"set output {gp_quote(img)}",
              "set multiplot layout 1,2 title \"xpr's bandwidth as a fraction of the STREAM triad "
              "(DRAM) measured in the same run\"",
              "set logscale x", "set format x '10^{%L}'", "set grid", "set yrange [0:*]",
              "set autoscale xfix", "set offsets graph 0.03, graph 0.03, 0, 0",
              "set ylabel 'fraction of STREAM triad'",  # x: N, said in the titles (a key below
              "set key below font ',8' samplen 2 maxrows 4"]  # would cover an x label)
    any_plot = False
    for g, (title, members) in enumerate(groups):
        plots = []
        i = 0
        for sweep, suite in members:
            if not sweep:
                continue
            for case in sweep.cases(suite):
                pts = [(n, sweep.gbs(sweep.get(suite, case, "xpr", n)) / sweep.stream_gbs)
                       for n in sweep.sizes(suite) if sweep.get(suite, case, "xpr", n)]
                dat = os.path.join(work, f"frac-{g}-{i}.dat")
                dash = "dt 2 " if suite == "reduction" else ""  # reductions dashed
                if write_dat(dat, pts):
                    plots.append(f"{gp_quote(dat)} using 1:2 with linespoints lw 2 {dash}pt 7 "
                                 f"ps 0.7 lc rgb '{colors[i % len(colors)]}' "
                                 f"title {gp_quote(case)}")
                i += 1
        if g == 0:  # the memory-bound target
            plots.append("0.9 with lines lw 1 dt 3 lc rgb '#555555' title '90% target'")
        script.append(f"set title {gp_quote(title)} font ',10'")
        script.append("plot " + ", \\\n     ".join(plots))
        any_plot = any_plot or len(plots) > 1
    script.append("unset multiplot")
    return script if any_plot else None


def run_gnuplot(gnuplot, script, path):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(script) + "\n")
    p = subprocess.run([gnuplot, path], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"report.py: gnuplot failed on {path}:\n{p.stderr}")


# ------------------------------------------------------------------------------------------------


def replace_block(path, block):
    text = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    b, e = text.find(BEGIN), text.find(END)
    new = BEGIN + "\n" + block + END
    if b != -1 and e != -1 and b < e:
        text = text[:b] + new + text[e + len(END):]
    elif text:
        text += ("\n" if text.endswith("\n") else "\n\n") + new + "\n"
    else:
        text = "# xpr benchmark results\n\n" + new + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", required=True, help="folder with cpu.csv, reduce.csv, compile.csv")
    ap.add_argument("--markdown", required=True, help="file whose xpr_bench block is rewritten")
    ap.add_argument("--img-dir", required=True, help="where the PNG charts go")
    ap.add_argument("--label", default="", help="a line shown first in the block")
    ap.add_argument("--command", default="scripts/bench.sh", help="the command that measured")
    args = ap.parse_args()

    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("report.py: gnuplot not found (Debian: gnuplot-nox); nothing written",
              file=sys.stderr)
        return 77

    cpu = load(os.path.join(args.results, "cpu.csv"))
    red = load(os.path.join(args.results, "reduce.csv"))
    comp = load_compile(os.path.join(args.results, "compile.csv"))
    if not cpu and not red:
        print(f"report.py: neither cpu.csv nor reduce.csv in {args.results}", file=sys.stderr)
        return 1

    os.makedirs(args.img_dir, exist_ok=True)
    md_dir = os.path.dirname(os.path.abspath(args.markdown))
    rel_img = os.path.relpath(os.path.abspath(args.img_dir), md_dir)

    charts = []  # (file name, alt text)
    with tempfile.TemporaryDirectory(prefix="xpr-bench-report-") as work:
        for sweep, suites in ((cpu, SUITES[:3]), (red, SUITES[3:])):
            if not sweep:
                continue
            for suite, title in suites:
                name = f"bench-throughput-{suite}.png"
                s = throughput_chart(sweep, suite, f"{title}: throughput against N (f32)",
                                     os.path.join(args.img_dir, name), work, sweep)
                if s:
                    run_gnuplot(gnuplot, s, os.path.join(work, f"{suite}.gp"))
                    charts.append((name, f"{title}: GB/s against N"))
        name = "bench-stream-fraction.png"
        s = fraction_chart(cpu, red, os.path.join(args.img_dir, name), work)
        if s:
            run_gnuplot(gnuplot, s, os.path.join(work, "fraction.gp"))
            charts.append((name, "xpr's fraction of the STREAM bandwidth against N"))
    for name, _ in charts:
        p = os.path.join(args.img_dir, name)
        with open(p, "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                print(f"report.py: {p} is not a PNG", file=sys.stderr)
                return 1

    out = []
    if args.label:
        out += [args.label, ""]
    out += context_lines(cpu, red, comp, args)
    sizes = sorted(set((cpu.sizes() if cpu else []) + (red.sizes() if red else [])))
    sizes = [n for n in sizes if n > 0]
    head = [n for n in (10**7, 10**8) if n in sizes] or sizes[-2:]
    out += ["", f"### Headline: N = {' and '.join(fmt_n(n) for n in head)}", "",
            "Times are medians; GB/s counts each input read once and each output written once; "
            "% of STREAM is xpr's GB/s over the STREAM triad of the same run; xpr/hand and "
            "xpr/Eigen are time ratios (below 1: xpr is faster); xpr 1-thr/Eigen compares both "
            "on one thread.", ""]
    out += headline(cpu, red, head)
    for sweep, suites in ((cpu, SUITES[:3]), (red, SUITES[3:])):
        if not sweep:
            continue
        for suite, title in suites:
            if sweep.cases(suite):
                out += ["", f"### {title}: every N", ""]
                out += [f"![{title}: GB/s against N]({rel_img}/bench-throughput-{suite}.png)"]
                out += sweep_tables(sweep, suite)
    if any(n == "bench-stream-fraction.png" for n, _ in charts):
        out += ["", "### Fraction of STREAM", "",
                f"![xpr's fraction of the STREAM bandwidth against N]"
                f"({rel_img}/bench-stream-fraction.png)"]
    if cpu:
        calls = calls_table(cpu)
        if calls:
            out += ["", "### Call overhead", ""] + calls
    if comp:
        out += ["", "### Compile latency"] + compile_tables(comp)
    replace_block(args.markdown, "\n".join(out) + "\n")
    print(f"report.py: wrote {args.markdown} and {len(charts)} charts in {args.img_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
