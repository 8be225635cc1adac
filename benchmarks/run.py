"""Run vecmix's benchmarks and write benchmarks/RESULTS.md: ``python -m benchmarks.run [--quick] [--out PATH]``.

Each operation is measured against its baselines in the same run, in rounds that give
every contender a turn, and reported as medians and ratios; absolute times are for orientation only. The full
run takes about eight minutes on 2 cores; ``--quick`` runs tiny sizes in seconds (CI's
smoke test) and writes to a temporary file unless ``--out`` is given. The targets of
issues 7 and 16 are judged from the full run.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import attention, exact, gallery, startup
from .timing import machine, medians, slope

FULL = {
    "exact": [64, 128, 256, 512], "domainmatrix": [16, 32, 64], "matrix_rank": [8, 12, 16], "exact_rounds": 3,
    "attention": [512, 1024, 2048, 4096], "attention_rounds": 5, "memory_n": 8192, "startup_rounds": 9,
    "multihead": (1024, 512, 8), "multihead_rounds": 5, "gallery_rounds": 3, "gallery_labs": None,
}
QUICK = {
    "exact": [16, 32], "domainmatrix": [8, 16], "matrix_rank": [4, 6], "exact_rounds": 1,
    "attention": [128, 256], "attention_rounds": 1, "memory_n": 512, "startup_rounds": 1,
    "multihead": (64, 64, 4), "multihead_rounds": 1, "gallery_rounds": 1, "gallery_labs": ["attention_basic"],
}
D = 64  # the head size of the attention benchmark
DTYPES = (np.float64, np.float32)
PAUSE = 0.3  # seconds between contenders of the threaded benchmarks (benchmarks.timing.medians)


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
    """{dtype: {n: {contender: median s}}}, the float64 agreement, peak memory {form: bytes}, and the kernel torch's
    SDPA ran {dtype: (input shape, kernel)}."""
    table, kernels = {}, {}
    for dtype in DTYPES:
        table[dtype.__name__] = {}
        for n in sizes["attention"]:
            log(f"attention, n = {n}, d = {D}, {dtype.__name__}")
            table[dtype.__name__][n] = medians(attention.contenders(*attention.inputs(n, D, dtype)),
                                               sizes["attention_rounds"], block=3, pause=PAUSE)
        kernels[dtype.__name__] = attention.sdpa_kernel(sizes["attention"][-1], D, dtype)
    n = sizes["attention"][-1]
    error = attention.agreement(n, D)
    log(f"peak memory, n = {sizes['memory_n']}")
    return table, (n, error), attention.peak_memory(sizes["memory_n"], D), kernels


def bench_multihead(sizes):
    """{dtype: ({contender: median s}, agreement, kernel)} for multi-head self-attention at sizes["multihead"]."""
    n, d_model, h = sizes["multihead"]
    table = {}
    for dtype in DTYPES:
        log(f"multi-head attention, n = {n}, d_model = {d_model}, h = {h}, {dtype.__name__}")
        X, weights, module = attention.multihead_inputs(n, d_model, h, dtype)
        times = medians(attention.multihead_contenders(X, weights, module), sizes["multihead_rounds"], block=3,
                        pause=PAUSE)
        kernel = attention.multihead_kernels(X, weights, module) if module is not None else None
        table[dtype.__name__] = (times, attention.multihead_agreement(X, weights, module), kernel)
    return table


def bench_startup(sizes):
    log("lab start-up (fresh processes, alternately)")
    return medians(startup.runners(), sizes["startup_rounds"], warmup=False)  # fresh processes: nothing to warm


def bench_gallery(sizes):
    log("the whole catalogue: labs.gallery and a joblib sweep (fresh processes in a copy of the project)")
    return medians(gallery.runners(sizes["gallery_labs"]), sizes["gallery_rounds"], warmup=False)


def fmt_s(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def slopes(table, name, sizes):
    ns = [n for n in sizes if name in table[n]]
    return f"{slope(ns, [table[n][name] for n in ns]):.2f}" if len(ns) > 1 else "n/a"


def attention_goals(table, n, floor_name="floor: (Q K^T) V, no softmax"):
    """Rows of the targets table for numeric attention at size n: vecmix against the fused SDPA kernel."""
    rows = []
    for dtype, limit in (("float64", 1.0), ("float32", 1.2)):
        row = table[dtype][n]
        name = f"2. attention / torch SDPA fused, n = {n}, {dtype}"
        if attention.SDPA not in row:
            rows.append((name, "not measured: torch is not installed", f"<= {limit}x", None))
            continue
        sdpa = row[attention.SDPA]
        r, floor = row["vecmix attention"] / sdpa, row[floor_name] / sdpa
        rows.append((name, f"{r:.2f}x (floor {floor:.2f}x)", f"<= {limit}x", r <= limit))
        rows.append((f"2. the same with numpy's step (no [fast] extra), {dtype}", f"{row['vecmix, numpy step'] / sdpa:.2f}x",
                     "(the fallback)", None))
    return rows


def render(quick, info, exact_table, sizes, attention_table, agreement, memory, kernels, multihead, start, cost):
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
    goals += attention_goals(attention_table, sizes["attention"][-1])
    goals.append((f"2. blocked vs full, n = {agreement[0]}, float64", f"{agreement[1]:.1e}", "<= 1e-12",
                  agreement[1] <= 1e-12))
    ratio_mem = memory["blocked"] / memory["full"]
    goals.append((f"2. peak memory blocked / full, n = {sizes['memory_n']}", f"1/{1 / ratio_mem:.0f}", "<= 1/20",
                  ratio_mem <= 1 / 20))
    n_mh, d_model, h = sizes["multihead"]
    for dtype, (times, _, _) in multihead.items():
        if attention.MHA in times:
            best = min(attention.MHAS, key=times.get)
            r = times["vecmix multihead_attention"] / times[best]
            goals.append((f"2. multihead_attention / nn.MultiheadAttention, n = {n_mh}, d_model = {d_model}, h = {h}, "
                          f"{dtype}", f"{r:.2f}x (its {best.split('(')[1].rstrip(')')}, the faster)", "(no goal)",
                          None))
    r_start = start[startup.LAB] / start[startup.BASELINE]
    goals.append(("3. lab start-up / bare imports", f"{r_start:.2f}x", "<= 1.25x", r_start <= 1.25))
    for name, seconds in cost.items():
        goals.append((f"4. `{name}`", fmt_s(seconds), "(no goal)", None))
    out += ["", "## Targets (issues 7 and 16)", "", "| target | measured | goal | met |", "|---|---|---|---|"]
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

    out += ["", "## Numeric attention", "", attention.__doc__.strip().replace("\n", " "), "",
            "`vecmix attention` is the default call (`backend='auto'`: the compiled step of the `[fast]` extra when "
            "numba is installed, which it is in this run if the machine table names it); `numpy step` forces "
            "numpy's step, the fallback without the extra.", ""]
    for dtype, kernel in kernels.items():
        if kernel is not None:
            out.append(f"- torch SDPA, {dtype}: inputs of shape {kernel[0]}, kernel `{kernel[1]}`.")
    out.append("")
    for dtype, rows in attention_table.items():
        names = list(next(iter(rows.values())))
        reference = attention.SDPA if attention.SDPA in names else names[0]
        out += [f"### {dtype} (ratios to {reference})", "", "| n | " + " | ".join(names) + " |",
                "|---" * (len(names) + 1) + "|"]
        for n, row in rows.items():
            out.append(f"| {n} | " + " | ".join(f"{fmt_s(row[c])} ({row[c] / row[reference]:.2f}x)" for c in names)
                       + " |")
        out += ["", "Growth (log-log slope against n): "
                + ", ".join(f"{c} {slopes(rows, c, list(rows))}" for c in names) + "", ""]
    out += [f"Peak memory at n = {sizes['memory_n']}, d = {D}, float64 (tracemalloc): blocked "
            f"{memory['blocked'] / 2**20:.1f} MiB, full {memory['full'] / 2**20:.1f} MiB.", ""]

    out += ["## Multi-head attention", "",
            f"Self-attention of n = {n_mh} tokens, d_model = {d_model}, h = {h} heads of size {d_model // h}: "
            "`vecmix.multihead_attention(X, X, W_q, W_k, W_v, W_o)` against one `torch.nn.MultiheadAttention` "
            "with the same projections (its biases set to zero, since vecmix's heads have none, and kept, since its "
            "fast path requires them), called as `module(x, k, v, need_weights=False)` in inference mode: with "
            "k = v = x (one tensor) it takes its fast path, with copies of x its SDPA path.", "",
            "| dtype | vecmix | torch, fast path | torch, SDPA path | vecmix / the faster | max difference (relative) "
            "| torch kernels |", "|---|---|---|---|---|---|---|"]
    for dtype, (times, error, kernels) in multihead.items():
        mine = times["vecmix multihead_attention"]
        if attention.MHA not in times:
            out.append(f"| {dtype} | {fmt_s(mine)} | not installed | not installed | | | |")
            continue
        fast, general = times[attention.MHA], times[attention.MHA_SDPA]
        shown = "; ".join(f"{path.split('(')[1].rstrip(')')}: `{kernel}`" for path, kernel in kernels.items())
        out.append(f"| {dtype} | {fmt_s(mine)} | {fmt_s(fast)} | {fmt_s(general)} | {mine / min(fast, general):.2f}x | "
                   f"{error:.1e} | {shown} |")

    out += ["", "## Lab start-up", "", startup.__doc__.strip().replace("\n", " "), "", "| command | median |", "|---|---|"]
    out += [f"| `{name}` | {fmt_s(t)} |" for name, t in start.items()]
    out += ["", f"Ratio: {r_start:.2f}x (the target's); against the imports with the same `gc.freeze()`: "
            f"{start[startup.LAB] / start[startup.FROZEN]:.2f}x. Compiling every module of labs/ and vecmix/ from "
            f"source takes {fmt_s(startup.compile_seconds())}: the most that a start without a bytecode cache adds.", ""]

    out += ["## The whole catalogue", "", gallery.__doc__.strip().replace("\n", " "), "",
            f"The catalogue holds {gallery.catalogue_size()} labs.", "", "| command | median |", "|---|---|"]
    out += [f"| `{name}` | {fmt_s(t)} |" for name, t in cost.items()]
    out.append("")
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
    attention_table, agreement, memory, kernels = bench_attention(sizes)
    multihead = bench_multihead(sizes)
    start = bench_startup(sizes)
    cost = bench_gallery(sizes)
    out.write_text(render(args.quick, machine(), exact_table, sizes, attention_table, agreement, memory, kernels,
                          multihead, start, cost) + "\n")
    log(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
