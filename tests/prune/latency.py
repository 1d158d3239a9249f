"""Interleaved latency of several .tflite models in ai-edge-litert (XNNPACK, the reference to beat): warm-up,
then rounds that run each model once in turn, so that machine load hits all models alike; medians and p90."""
from __future__ import annotations

import time

import numpy as np


def interleaved(models: dict, feeds: dict, runs: int = 30, warmup: int = 3, threads: int = 1) -> dict:
    """models: name -> .tflite bytes, all with the same inputs. Returns name -> {"median_ms", "p90_ms"}."""
    from ai_edge_litert.interpreter import Interpreter
    runners = {}
    for name, data in models.items():
        interp = Interpreter(model_content=data, num_threads=threads)
        runners[name] = interp.get_signature_runner("serving_default")
    times = {name: [] for name in models}
    for i in range(warmup + runs):
        for name, run in runners.items():
            start = time.perf_counter()
            run(**feeds)
            if i >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: {"median_ms": 1e3 * float(np.median(t)), "p90_ms": 1e3 * float(np.percentile(t, 90))}
            for name, t in times.items()}
