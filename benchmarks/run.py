"""Run vecmix's benchmarks and write benchmarks/RESULTS.md: ``python -m benchmarks.run [--quick] [--out PATH]``.

Each operation is measured against its baselines in the same run, in rounds that give
every contender a turn, and reported as medians and ratios; absolute times are for orientation only. The full
run takes a few minutes on 2 cores; ``--quick`` runs tiny sizes in seconds (CI's smoke
test) and writes to a temporary file unless ``--out`` is given. The targets of issue 7
are judged from the full run.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import attention, exact, startup
from .timing import machine, medians, slope

FULL = {
    "exact": [64, 128, 256, 512], "domainmatrix": [16, 32, 64], "matrix_rank": [8, 12, 16], "exact_rounds": 3,
    "attention": [512, 1024, 2048, 4096], "attention_rounds": 4, "memory_n": 8192, "startup_rounds": 7,
}
QUICK = {
    "exact": [16, 32], "domainmatrix": [8, 16], "matrix_rank": [4, 6], "exact_rounds": 1,
    "attention": [128, 256], "attention_rounds": 1, "memory_n": 512, "startup_rounds": 1,
}
D = 64  # the head size of the attention benchmark


def log(message):
    print(message, file=sys.stderr, flush=True)


# Each exact baseline runs beside vecmix at the sizes (a key of FULL / QUICK) it can reach.
EXACT_BASELINES = {
    "raw python-flint": ("exact", exact.with_flint),
    "SymPy DomainMatrix": ("domainmatrix", exact.with_domainmatrix),
    "SymPy Matrix.rank() (rank only)": ("matrix_rank", exact.with_matrix_rank),
}


def bench_exact(sizes):
    """{n: {contender: median s}} for the span questions at each size."""
    table = {}
    for name, (key, baseline) in EXACT_BASELINES.items():
        for n in sizes[key]:
            log(f"exact span algebra, m = d = {n}: vecmix and {name}")
            V, z = exact.inputs(n)
            table.setdefault(n, {}).update(medians({"vecmix": lambda: exact.with_vecmix(V, z),
                                                    name: lambda: baseline(V, z)}, sizes["exact_rounds"], block=2))
    return dict(sorted(table.items()))


def bench_attention(sizes):
    """{dtype: {n: {contender: median s}}}, the float64 agreement, and peak memory {form: bytes}."""
    table = {}
    for dtype in (np.float64, np.float32):
        table[dtype.__name__] = {}
        for n in sizes["attention"]:
            log(f"attention, n = {n}, d = {D}, {dtype.__name__}")
            table[dtype.__name__][n] = medians(attention.contenders(*attention.inputs(n, D, dtype)),
                                               sizes["attention_rounds"], block=3)
    n = sizes["attention"][-1]
    error = attention.agreement(n, D)
    log(f"peak memory, n = {sizes['memory_n']}")
    return table, (n, error), attention.peak_memory(sizes["memory_n"], D)


def bench_startup(sizes):
    log("lab start-up (fresh processes, alternately)")
    return medians(startup.runners(), sizes["startup_rounds"], warmup=False)  # fresh processes: nothing to warm


def fmt_s(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def slopes(table, name, sizes):
    ns = [n for n in sizes if name in table[n]]
    return f"{slope(ns, [table[n][name] for n in ns]):.2f}" if len(ns) > 1 else "n/a"


def render(quick, info, exact_table, sizes, attention_table, agreement, memory, start):
    """RESULTS.md as text."""
    out = ["# vecmix benchmarks", "",
           f"Written by `python -m benchmarks.run{' --quick' if quick else ''}`; regenerate it with that command. "
           "Times are medians over rounds in which every contender runs in turn (a warm-up, then a block of timed "
           "runs), on the machine below; compare the ratios, which are measured in the same run, rather than the "
           "absolute times.", "", "## Machine", "", "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in info.items()]
    goals = []
    big, mid = sizes["exact"][-1], sizes["exact"][-2] if len(sizes["exact"]) > 1 else sizes["exact"][-1]
    t_big = exact_table[big]["vecmix"]
    r_mid = exact_table[mid]["vecmix"] / exact_table[mid]["raw python-flint"]
    goals.append(("1. exact span algebra, m = d = " + str(big), fmt_s(t_big), "< 1 s at 512", t_big < 1))
    goals.append((f"1. vecmix / raw python-flint, m = d = {mid}", f"{r_mid:.2f}x", "<= 2x at 256", r_mid <= 2))
    n_att = sizes["attention"][-1]
    for dtype, limit in (("float64", 1.0), ("float32", 1.2)):
        row = attention_table[dtype][n_att]
        if "torch SDPA (CPU)" in row:
            r = row["vecmix attention (blocked)"] / row["torch SDPA (CPU)"]
            goals.append((f"2. attention / torch SDPA, n = {n_att}, {dtype}", f"{r:.2f}x", f"<= {limit}x", r <= limit))
        else:
            goals.append((f"2. attention / torch SDPA, n = {n_att}, {dtype}", "not measured: torch is not installed",
                          f"<= {limit}x", None))
    goals.append((f"2. blocked vs full, n = {agreement[0]}, float64", f"{agreement[1]:.1e}", "<= 1e-12",
                  agreement[1] <= 1e-12))
    ratio_mem = memory["blocked"] / memory["full"]
    goals.append((f"2. peak memory blocked / full, n = {sizes['memory_n']}", f"1/{1 / ratio_mem:.0f}", "<= 1/20",
                  ratio_mem <= 1 / 20))
    names = list(start)
    r_start = start[names[1]] / start[names[0]]
    goals.append(("3. lab start-up / bare imports", f"{r_start:.2f}x", "<= 1.25x", r_start <= 1.25))
    out += ["", "## Targets (issue 7)", "", "| target | measured | goal | met |", "|---|---|---|---|"]
    out += [f"| {a} | {b} | {c} | {'n/a' if d is None else 'yes' if d else '**no**'} |" for a, b, c, d in goals]
    if quick:
        out += ["", "_Quick mode: tiny sizes, one round; these numbers are a smoke test, not the targets' verdict._"]

    out += ["", "## Exact span algebra", "", exact.__doc__.strip().replace("\n", " "), "",
            "Contenders: `vecmix` is the public API end to end (`eliminate`, `in_span`, `solution_set`, SymPy "
            "results); `raw python-flint` is the same algorithm written directly on `fmpq_mat`; `SymPy DomainMatrix` "
            "uses its own rref, nullspace and solve over QQ; `Matrix.rank()` computes the rank only.", ""]
    contenders = ["vecmix", *EXACT_BASELINES]
    out += ["| m = d | " + " | ".join(contenders) + " | vecmix / flint |", "|---" * (len(contenders) + 2) + "|"]
    for n, row in exact_table.items():
        ratio = f"{row['vecmix'] / row['raw python-flint']:.2f}x" if "raw python-flint" in row else ""
        out.append(f"| {n} | " + " | ".join(fmt_s(row[c]) if c in row else "" for c in contenders) + f" | {ratio} |")
    own = {"vecmix": sizes["exact"], **{name: sizes[key] for name, (key, _) in EXACT_BASELINES.items()}}
    out += ["", "Growth (fitted log-log slope of time against m = d, over each contender's own sizes):", ""]
    out += [f"- {c}: {slopes(exact_table, c, own[c])} (m = d = {', '.join(map(str, own[c]))})" for c in contenders]

    out += ["", "## Numeric attention", "", attention.__doc__.strip().replace("\n", " "), ""]
    for dtype, rows in attention_table.items():
        names = list(next(iter(rows.values())))
        reference = "torch SDPA (CPU)" if "torch SDPA (CPU)" in names else names[0]
        out += [f"### {dtype} (ratios to {reference})", "", "| n | " + " | ".join(names) + " |",
                "|---" * (len(names) + 1) + "|"]
        for n, row in rows.items():
            out.append(f"| {n} | " + " | ".join(f"{fmt_s(row[c])} ({row[c] / row[reference]:.2f}x)" for c in names)
                       + " |")
        out += ["", "Growth (log-log slope against n): "
                + ", ".join(f"{c} {slopes(rows, c, list(rows))}" for c in names) + "", ""]
    out += [f"Peak memory at n = {sizes['memory_n']}, d = {D}, float64 (tracemalloc): blocked "
            f"{memory['blocked'] / 2**20:.1f} MiB, full {memory['full'] / 2**20:.1f} MiB.", ""]

    out += ["## Lab start-up", "", startup.__doc__.strip().replace("\n", " "), "", "| command | median |", "|---|---|"]
    out += [f"| `{name}` | {fmt_s(t)} |" for name, t in start.items()]
    out += ["", f"Ratio: {r_start:.2f}x.", ""]
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round: a smoke test")
    parser.add_argument("--out", type=Path, help="where to write the results (default benchmarks/RESULTS.md; "
                                                 "a temporary file with --quick)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    out = args.out or (Path(tempfile.mkdtemp()) / "RESULTS.md" if args.quick else Path(__file__).parent / "RESULTS.md")
    exact_table = bench_exact(sizes)
    attention_table, agreement, memory = bench_attention(sizes)
    start = bench_startup(sizes)
    out.write_text(render(args.quick, machine(), exact_table, sizes, attention_table, agreement, memory, start) + "\n")
    log(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
