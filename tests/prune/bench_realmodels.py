"""Latency of the PP-OCR cls and det models with 30% of FLOPs pruned against the unpruned models in
ai-edge-litert: interleaved medians and p90 over RUNS runs, 1 and 2 threads, ratios pruned / original.
Run from the repository root: python tests/prune/bench_realmodels.py [runs]"""
from __future__ import annotations

import os
import sys

sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)), os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]

import taskdata as td  # noqa: E402
from latency import interleaved  # noqa: E402
from realmodels import rapidocr_models  # noqa: E402
from test_prune_realmodels import (CLS_CALIBRATION, CLS_SHAPE, DET_CALIBRATION, DET_SHAPE, model_path,  # noqa: E402
                                   pruned_case)


def main(runs: int = 50) -> None:
    files = rapidocr_models()
    cases = {"cls": (CLS_SHAPE, td.cls_dataset(CLS_CALIBRATION, seed=1), td.cls_dataset(1, seed=3)),
             "det": (DET_SHAPE, td.det_dataset(DET_CALIBRATION, seed=1), td.det_dataset(1, seed=3))}
    for kind, (shape, calibration, sample) in cases.items():
        original, pruned, report = pruned_case(model_path(files, kind), shape, calibration)
        print(f"{kind}: FLOPs {report.flops_after / report.flops_before:.3f}x, "
              f"size {report.size_after / report.size_before:.3f}x")
        feed = next(td.feeds(sample))
        for threads in (1, 2):
            t = interleaved({"original": original.to_bytes(), "pruned": pruned.to_bytes()}, feed, runs=runs,
                            threads=threads)
            o, p = t["original"], t["pruned"]
            print(f"  {threads} thread(s): median {o['median_ms']:.2f} -> {p['median_ms']:.2f} ms "
                  f"(ratio {p['median_ms'] / o['median_ms']:.3f}), p90 {o['p90_ms']:.2f} -> {p['p90_ms']:.2f} ms")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
