"""Quantized against float32 latency on the PP-OCR cls and det models, in ai-edge-litert and runtime_edge.

    python benchmarks/quantized_latency.py [--runs 30] [--threads 1,2] [--models ppocr_cls,ppocr_det]
        [--variants float32,float16,dynamic,int8,int16x8] [--samples 3] [--no-cache]

A variant is a scheme, optionally with a --target and ops kept float: `int8@builtin:HARD_SWISH`. Each variant is made by
edgepress.quantize from the ONNX model and cached in $EDGEPRESS_CACHE/bench/ under a key of the source
file, the variant, the sample count and a digest of the converter and quantizer sources (older files of
the model are removed), so a rerun only times. Calibration uses a few seeded rendered-text samples
(tests/quantize/qtext.py): enough for latency, not for accuracy. All variants of a model run interleaved
in one process (runtime_edge.bench), per thread count: warm-up, then --runs runs; medians, p90 and the
ratio variant / float32 of the same runtime (< 1: the variant is faster). The last column counts the
XNNPACK partitions litert made and names the ops it left to builtin kernels; `cos` is the output's cosine
to float32 (litert, one held-out sample).
"""
import argparse
import hashlib
import os
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "quantize"))

from compare import ONNX_SHAPES, model_paths  # noqa: E402  (also puts tests/ on sys.path)
from qtext import line_image, page_image  # noqa: E402
from realmodels import cache_dir  # noqa: E402

import edgepress.convert  # noqa: E402
import edgepress.quantize  # noqa: E402
from edgepress.convert import load  # noqa: E402
from edgepress.errors import EdgepressError  # noqa: E402
from edgepress.quantize import StaysFloatWarning, quantize  # noqa: E402
from edgepress.runtime_edge.bench import TfliteApiRunner, measure_interleaved  # noqa: E402

SAMPLE = {"ppocr_cls": lambda rng: line_image(192, 48, rng), "ppocr_det": lambda rng: page_image(640, rng)}
RUNTIMES = ("litert", "edgepress")


def source_digest() -> str:
    """Digest of the converter and quantizer sources: a cached file is reused only by the code that made it."""
    h = hashlib.sha256()
    for package in (edgepress.convert, edgepress.quantize):
        for root in package.__path__:
            for path in sorted(Path(root).rglob("*.py")):
                h.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return h.hexdigest()[:16]


def file_digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def make_variant(ir, variant: str, samples: list) -> bytes:
    scheme, _, kept = variant.partition(":")
    scheme, _, target = scheme.partition("@")
    if scheme == "float32":
        return ir.to_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaysFloatWarning)
        qmodel, _ = quantize(ir, scheme, calibration=samples, keep_float=[k for k in kept.split("+") if k],
                             report_samples=0, target=target or "xnnpack")
    return qmodel.to_bytes()


def variant_files(name: str, variants: list, n_samples: int, use_cache: bool) -> dict:
    """variant -> .tflite bytes, from the cache or made (and cached)."""
    path, shapes = model_paths()[name]
    folder = cache_dir() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    key = f"{name}-{file_digest(path)}-{source_digest()}-s{n_samples}"
    for stale in folder.glob(f"{name}-*.tflite"):  # made by other code or from another source
        if not stale.name.startswith(key):
            stale.unlink()
    out, ir, samples = {}, None, None
    for variant in variants:
        cached = folder / f"{key}-{variant.replace(':', '-').replace('+', '_').replace('@', '-')}.tflite"
        if use_cache and cached.exists():
            out[variant] = cached.read_bytes()
            continue
        if ir is None:
            ir = load(path, input_shapes=shapes)
            rng = np.random.default_rng(0)
            samples = [{"x": SAMPLE[name](rng)} for _ in range(n_samples)]
        out[variant] = make_variant(ir, variant, samples)
        cached.write_bytes(out[variant])
    return out


def xnnpack_partitions(data: bytes, threads: int) -> str:
    """'N' delegate partitions, plus the ops litert runs with builtin kernels.

    litert lists the original nodes and the DELEGATE nodes that replaced some of them. A builtin node's
    outputs are real tensors that no partition makes, read by a partition, by the graph's outputs or by
    another builtin node; a node inside a partition writes tensors only its partition reads."""
    from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_content=data, num_threads=threads)
    interp.allocate_tensors()
    ops = interp._get_ops_details()  # noqa: SLF001 (the only view of the execution plan litert offers)
    partitions = [o for o in ops if o["op_name"] == "DELEGATE"]
    made = {i for p in partitions for i in p["outputs"]}
    read = {i for p in partitions for i in p["inputs"]} | {d["index"] for d in interp.get_output_details()}
    builtin = Counter()
    for o in reversed([o for o in ops if o["op_name"] != "DELEGATE"]):  # consumers before producers
        if not set(o["outputs"]) & made and set(o["outputs"]) & read:
            builtin[o["op_name"]] += 1
            read |= set(o["inputs"])
    return f"{len(partitions)}" + "".join(f" {op}x{n}" for op, n in sorted(builtin.items()))


def cosine(a, b) -> float:
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))


def cosines(files: dict, feed: dict) -> dict:
    from ai_edge_litert.interpreter import Interpreter
    outs = {v: Interpreter(model_content=d, num_threads=1).get_signature_runner("serving_default")(**feed)
            for v, d in files.items()}
    return {v: min(cosine(o[k], outs["float32"][k]) for k in o) for v, o in outs.items()}


def runners(files: dict, threads: int) -> tuple[list, dict]:
    """One runner per (runtime, variant) that loads; notes for the ones that do not."""
    from ai_edge_litert.interpreter import Interpreter as LiteRT

    from edgepress.runtime_edge import Interpreter as Edge
    made, notes = [], {}
    for runtime, cls in (("litert", LiteRT), ("edgepress", Edge)):
        for variant, data in files.items():
            try:
                made.append(TfliteApiRunner(f"{runtime} {variant}", cls, data, threads))
            except EdgepressError as e:
                notes[f"{runtime} {variant}"] = str(e).split(": ", 1)[-1].split(";")[0]
    return made, notes


def rows(name: str, files: dict, threads: list, runs: int, cos: dict):
    size = len(files["float32"])
    for n in threads:
        made, notes = runners(files, n)
        results = {r.runtime: r for r in measure_interleaved(made, n, runs, 3, False)}
        for variant, data in files.items():
            cells = [name, variant, f"{len(data) / 1e3:.0f}", f"{len(data) / size:.3f}", str(n), f"{cos[variant]:.4f}"]
            for runtime in RUNTIMES:
                r, base = results.get(f"{runtime} {variant}"), results.get(f"{runtime} float32")
                if r is None:
                    cells += ["—", "—", notes.get(f"{runtime} {variant}", "—")]
                    continue
                ratio = f"{r.median_ms / base.median_ms:.2f}" if base else "—"
                cells += [f"{r.median_ms:.2f}", f"{r.p90_ms:.2f}", ratio]
            cells.append(xnnpack_partitions(data, n))
            yield "| " + " | ".join(cells) + " |"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--models", default=",".join(ONNX_SHAPES))
    parser.add_argument("--variants", default="float32,float16,dynamic,int8,int16x8")
    parser.add_argument("--samples", type=int, default=3, help="calibration samples per quantized variant")
    parser.add_argument("--no-cache", action="store_true", help="quantize again even where a cached file exists")
    args = parser.parse_args()
    variants = ["float32"] + [v for v in args.variants.split(",") if v != "float32"]
    threads = [int(t) for t in args.threads.split(",")]
    print("| model | variant | KB | size vs f32 | threads | cos | litert ms | p90 | vs f32 | edgepress ms | p90 | "
          "vs f32 | xnnpack partitions, builtin ops |")
    print("|---" * 13 + "|")
    for name in args.models.split(","):
        files = variant_files(name, variants, args.samples, not args.no_cache)
        cos = cosines(files, {"x": SAMPLE[name](np.random.default_rng(1))})
        for row in rows(name, files, threads, args.runs, cos):
            print(row, flush=True)


if __name__ == "__main__":
    main()
