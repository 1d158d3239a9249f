"""The engines the tests compare: each a function (.tflite bytes or ONNX model, feeds) -> {output: array}.

TFLite engines match inputs and outputs by signature name (serving_default). tflite-runtime 2.14 needs numpy
< 2 and Python <= 3.11, so it runs in its own environment (EDGEPRESS_TFLITE_RUNTIME_PYTHON; .ci/run sets it
up) as one long-lived worker per test process (tests/tflite_runtime_worker.py).
"""
from __future__ import annotations

import os
import subprocess
import tempfile

import numpy as np
import onnx

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tflite_runtime_worker.py")


def onnxruntime_run(model: onnx.ModelProto | str, feeds: dict) -> dict:
    import onnxruntime as ort
    data = model.SerializeToString() if isinstance(model, onnx.ModelProto) else model
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def litert_run(tflite_bytes: bytes, feeds: dict) -> dict:
    from ai_edge_litert.interpreter import Interpreter
    return Interpreter(model_content=tflite_bytes, num_threads=1).get_signature_runner("serving_default")(**feeds)


def edgepress_run(tflite_bytes: bytes, feeds: dict) -> dict:
    """runtime_edge, our C interpreter, through its tf.lite-compatible signature runner."""
    from edgepress.runtime_edge import Interpreter
    return Interpreter(model_content=tflite_bytes, num_threads=1).get_signature_runner("serving_default")(**feeds)


class TfliteRuntimeWorker:
    """A tflite-runtime process serving one model per request, so a check costs a model load, not a start."""

    def __init__(self, python: str):
        self.proc = subprocess.Popen([python, WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def run(self, tflite_bytes: bytes, feeds: dict) -> dict:
        with tempfile.TemporaryDirectory() as d:
            model, inputs, outputs = (os.path.join(d, n) for n in ("m.tflite", "in.npz", "out.npz"))
            with open(model, "wb") as f:
                f.write(tflite_bytes)
            np.savez(inputs, **feeds)
            self.proc.stdin.write(f"{model}\t{inputs}\t{outputs}\n")
            self.proc.stdin.flush()
            reply = self.proc.stdout.readline().strip()
            if not reply:
                raise AssertionError(f"tflite-runtime crashed (exit {self.proc.wait()}): "
                                     f"{self.proc.stderr.read().strip().splitlines()[-1:]}")
            assert reply == "ok", f"tflite-runtime failed: {reply}"
            return dict(np.load(outputs))


_worker: TfliteRuntimeWorker | None = None


def tflite_runtime_run(tflite_bytes: bytes, feeds: dict) -> dict | None:
    """tflite-runtime's outputs, or None where it is not set up (EDGEPRESS_TFLITE_RUNTIME_PYTHON unset, e.g.
    on Python > 3.11)."""
    global _worker
    python = os.environ.get("EDGEPRESS_TFLITE_RUNTIME_PYTHON")
    if not python:
        return None
    if _worker is None or _worker.proc.poll() is not None:
        _worker = TfliteRuntimeWorker(python)
    return _worker.run(tflite_bytes, feeds)
