"""Benchmark harness: warm-up, interleaved repeats, median and spread, JSON results.

Candidates of one workload run interleaved in the same process (A B C A B C ...), so a
machine that gets busier slows them alike and the reported ratios stay meaningful. BLAS is
pinned to one thread when threadpoolctl is available; the settings are printed. JAX's XLA:CPU
runtime has its own thread pool, out of threadpoolctl's reach: importing this module sizes it
to one thread through the environment, before any benchmark imports jax.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

# Read by jaxlib when its CPU client starts, so they must be set before jax is imported.
# PJRT_NPROC sizes XLA:CPU's intra-op thread pool (it defaults to the number of cores);
# --xla_cpu_multi_thread_eigen=false keeps the Eigen calls XLA emits single-threaded.
os.environ.setdefault("PJRT_NPROC", "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")


def thread_settings() -> dict:
    import sys

    info = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                            "MKL_NUM_THREADS", "XLA_FLAGS", "PJRT_NPROC")}
    if "torch" in sys.modules:
        info["torch_threads"] = sys.modules["torch"].get_num_threads()
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [{"api": p.get("internal_api"), "threads": p.get("num_threads")}
                        for p in threadpool_info()]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    return info


def pin_blas(threads: int = 1):
    """Limit BLAS (and PyTorch's intra-op pool, when imported) to ``threads`` threads for the
    life of the returned context (or no-op). JAX's pool is sized at import instead (above)."""
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=threads)
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()


def measure(candidates: dict[str, Callable[[], object]], *, repeats: int = 15,
            number: int = 1, warmup: int = 3) -> dict[str, dict]:
    """Time each candidate ``number`` calls per sample, ``repeats`` samples, interleaved."""
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {k: [] for k in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            samples[name].append((time.perf_counter() - t0) / number)
    out = {}
    for name, s in samples.items():
        s.sort()
        out[name] = {"median_s": statistics.median(s), "p10_s": s[len(s) // 10],
                     "p90_s": s[(9 * len(s)) // 10], "n": len(s)}
    return out


def report(title: str, results: dict[str, dict], baseline: str, unit: str = "ms",
           scale: float = 1e3) -> str:
    base = results[baseline]["median_s"]
    lines = [f"## {title}", f"{'candidate':34s} {unit:>10s} {'p10-p90':>17s} {'ratio':>7s}"]
    for name, r in results.items():
        lines.append(f"{name:34s} {r['median_s'] * scale:10.3f} "
                     f"{r['p10_s'] * scale:8.3f}-{r['p90_s'] * scale:<8.3f} "
                     f"{r['median_s'] / base:7.2f}")
    lines.append(f"(ratio = median / median of '{baseline}')")
    return "\n".join(lines)


def save(name: str, payload: dict) -> Path:
    folder = Path(__file__).parent / "results"
    folder.mkdir(exist_ok=True)
    stamp = _dt.date.today().isoformat()
    path = folder / f"{stamp}-{name}.json"
    payload = dict(payload)
    payload["machine"] = {"platform": platform.platform(), "python": platform.python_version(),
                          "numpy": np.__version__, "threads": thread_settings()}
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path
