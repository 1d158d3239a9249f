"""`edgepress bench`: latency, load time and memory of runtime_edge beside its peers, from one run.

In-process runtimes (edgepress, ai-edge-litert, onnxruntime) are measured interleaved — run i of every
runtime before run i+1 of any — so that the shared machine's noise hits all of them alike. tflite-runtime
2.14 needs numpy < 2, so it runs its own loop in a subprocess (EDGEPRESS_TFLITE_RUNTIME_PYTHON) and is not
interleaved. Ratios (peer / edgepress) are what to quote; absolute times on a shared machine are noise.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from edgepress.errors import EdgepressError, UsageError

RUNTIMES = ("edgepress", "litert", "tflite", "onnxruntime")


@dataclass
class Result:
    runtime: str
    threads: int
    load_ms: float = 0.0
    first_ms: float = 0.0
    median_ms: float = 0.0
    p90_ms: float = 0.0
    rss_growth_mb: float = 0.0
    arena_bytes: int | None = None
    profile: list = field(default_factory=list)
    note: str = ""


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class TfliteApiRunner:
    """Anything with tf.lite.Interpreter's API: runtime_edge and ai-edge-litert."""

    def __init__(self, name, interpreter_cls, tflite_bytes, threads, profile=False):
        self.name = name
        before, start = rss_mb(), time.perf_counter()
        try:
            self.interp = interpreter_cls(model_content=tflite_bytes, num_threads=threads)
            self.interp.allocate_tensors()
        except (ValueError, RuntimeError) as e:  # the tf.lite API's error types
            raise EdgepressError(f"{name} cannot run this model: {e}") from None
        self.load_ms = (time.perf_counter() - start) * 1e3
        self.rss_growth = rss_mb() - before
        self.inputs = self.interp.get_input_details()
        self.profile = profile

    def feed(self, feeds: dict):
        for d in self.inputs:
            self.interp.set_tensor(d["index"], feeds[d["name"]])

    def invoke(self):
        self.interp.invoke()


class OnnxRuntimeRunner:
    def __init__(self, onnx_path, threads):
        import onnxruntime as ort
        self.name = "onnxruntime"
        before, start = rss_mb(), time.perf_counter()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
        self.load_ms = (time.perf_counter() - start) * 1e3
        self.rss_growth = rss_mb() - before
        self.feeds = None

    def feed(self, feeds: dict):
        self.feeds = feeds

    def invoke(self):
        self.sess.run(None, self.feeds)


def make_feeds(details, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    feeds = {}
    for d in details:
        dtype = np.dtype(d["dtype"])
        if dtype.kind == "f":
            feeds[d["name"]] = rng.uniform(-1, 1, d["shape"]).astype(dtype)
        else:
            info = np.iinfo(dtype)
            feeds[d["name"]] = rng.integers(max(info.min, -128), min(info.max, 127), d["shape"]).astype(dtype)
    return feeds


def prepare_model(path: str, input_shapes: dict | None):
    """(tflite bytes, onnx path or None). ONNX input is converted once; .tflite is used as it is."""
    from edgepress.convert import load, model_format
    if model_format(path) == "tflite":
        with open(path, "rb") as f:
            return f.read(), None
    return load(path, input_shapes=input_shapes).to_bytes(), path


def bench(path: str, runtimes=("edgepress", "litert"), threads=(1,), runs: int = 30, warmup: int = 3,
          profile: bool = False, input_shapes: dict | None = None) -> list[Result]:
    unknown = [r for r in runtimes if r not in RUNTIMES]
    if unknown:
        raise UsageError(f"--runtime: unknown {unknown}; choose from {', '.join(RUNTIMES)}")
    tflite_bytes, onnx_path = prepare_model(path, input_shapes)
    results = []
    for n in threads:
        runners = []
        for name in runtimes:
            runner = make_runner(name, tflite_bytes, onnx_path, n, profile)
            if runner is not None:
                runners.append(runner)
        results += measure_interleaved(runners, n, runs, warmup, profile)
        if "tflite" in runtimes:
            results.append(tflite_runtime_subprocess(tflite_bytes, n, runs, warmup))
        if "onnxruntime" in runtimes and onnx_path is None:
            results.append(Result("onnxruntime", n, note="needs an .onnx model"))
    return results


def make_runner(name, tflite_bytes, onnx_path, threads, profile):
    if name == "edgepress":
        from edgepress.runtime_edge import Interpreter
        return TfliteApiRunner(name, Interpreter, tflite_bytes, threads, profile)
    if name == "litert":
        from ai_edge_litert.interpreter import Interpreter
        return TfliteApiRunner(name, Interpreter, tflite_bytes, threads)
    if name == "onnxruntime" and onnx_path is not None:
        return OnnxRuntimeRunner(onnx_path, threads)
    return None


def measure_interleaved(runners, threads, runs, warmup, profile) -> list[Result]:
    if not runners:
        return []
    details = next((r.inputs for r in runners if hasattr(r, "inputs")), None)
    feeds = make_feeds(details) if details is not None else {}
    times = {r.name: [] for r in runners}
    first = {}
    for r in runners:
        r.feed(feeds)
        start = time.perf_counter()
        r.invoke()
        first[r.name] = (time.perf_counter() - start) * 1e3
        for _ in range(warmup):
            r.invoke()
    for _ in range(runs):
        for r in runners:
            start = time.perf_counter()
            r.invoke()
            times[r.name].append((time.perf_counter() - start) * 1e3)
    results = []
    for r in runners:
        t = np.array(times[r.name])
        res = Result(r.name, threads, load_ms=r.load_ms, first_ms=first[r.name], median_ms=float(np.median(t)),
                     p90_ms=float(np.percentile(t, 90)), rss_growth_mb=r.rss_growth)
        interp = getattr(r, "interp", None)
        if r.name == "edgepress":
            res.arena_bytes = interp.arena_bytes() if hasattr(interp, "arena_bytes") else None
            if profile and hasattr(interp, "profile"):
                res.profile = interp.profile()
        results.append(res)
    return results


TFLITE_WORKER = r"""
import json, sys, time
import numpy as np
from tflite_runtime.interpreter import Interpreter
path, threads, runs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
start = time.perf_counter()
it = Interpreter(model_path=path, num_threads=threads)
it.allocate_tensors()
load = (time.perf_counter() - start) * 1e3
rng = np.random.default_rng(0)
for d in it.get_input_details():
    it.set_tensor(d["index"], rng.uniform(-1, 1, d["shape"]).astype(d["dtype"]))
start = time.perf_counter(); it.invoke(); first = (time.perf_counter() - start) * 1e3
for _ in range(warmup):
    it.invoke()
t = []
for _ in range(runs):
    start = time.perf_counter(); it.invoke(); t.append((time.perf_counter() - start) * 1e3)
print(json.dumps({"load_ms": load, "first_ms": first, "median_ms": float(np.median(t)),
                  "p90_ms": float(np.percentile(t, 90))}))
"""


def tflite_runtime_subprocess(tflite_bytes, threads, runs, warmup) -> Result:
    python = os.environ.get("EDGEPRESS_TFLITE_RUNTIME_PYTHON")
    if not python:
        return Result("tflite", threads, note="set EDGEPRESS_TFLITE_RUNTIME_PYTHON to a Python with tflite-runtime")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model.tflite")
        with open(path, "wb") as f:
            f.write(tflite_bytes)
        done = subprocess.run([python, "-c", TFLITE_WORKER, path, str(threads), str(runs), str(warmup)],
                              capture_output=True, text=True)
    if done.returncode != 0:
        return Result("tflite", threads, note="tflite-runtime failed: " + done.stderr.strip().splitlines()[-1])
    return Result("tflite", threads, **json.loads(done.stdout), note="own process, not interleaved")


def format_table(results: list[Result]) -> str:
    lines = [f"{'runtime':<12}{'threads':>8}{'load ms':>10}{'first ms':>10}{'median ms':>11}{'p90 ms':>9}"
             f"{'RSS +MB':>9}{'vs edgepress':>14}  note"]
    base = {r.threads: r.median_ms for r in results if r.runtime == "edgepress" and r.median_ms}
    for r in results:
        ratio = f"{r.median_ms / base[r.threads]:.2f}x" if r.median_ms and r.threads in base else ""
        extra = r.note or (f"arena {r.arena_bytes / 1e6:.2f} MB" if r.arena_bytes else "")
        lines.append(f"{r.runtime:<12}{r.threads:>8}{r.load_ms:>10.2f}{r.first_ms:>10.2f}{r.median_ms:>11.3f}"
                     f"{r.p90_ms:>9.3f}{r.rss_growth_mb:>9.1f}{ratio:>14}  {extra}")
    for r in results:
        if r.profile:
            lines.append(f"per-op profile (edgepress, {r.threads} thread(s)), top 15 by time:")
            for row in sorted(r.profile, key=lambda p: -p["ms"])[:15]:
                lines.append(f"  {row['op']:<24}{row.get('name', ''):<40}{row['ms']:>10.3f} ms")
    lines.append("(ratio = runtime median / edgepress median; > 1 means edgepress is faster)")
    return "\n".join(lines)


def to_json(results: list[Result]) -> str:
    return json.dumps([asdict(r) for r in results], indent=2)
