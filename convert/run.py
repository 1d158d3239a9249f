"""`edgepress run`: evaluate a model on given inputs with the reference evaluator or runtime_edge."""
from __future__ import annotations

import os

import numpy as np

from edgepress.errors import EdgepressError, UsageError
from edgepress.files import atomic_write

from . import load, model_format


def run_model(path: str, feeds: dict, input_shapes: dict, engine: str = "reference") -> dict:
    if not input_shapes and model_format(path) == "onnx":
        input_shapes = {name: list(np.shape(v)) for name, v in feeds.items()}
    model = load(path, input_shapes=input_shapes)
    names = [t.name for t in model.graph.inputs]
    missing = [n for n in names if n not in feeds]
    unknown = [n for n in feeds if n not in names]
    if missing or unknown:
        raise UsageError(f"inputs do not match the model: missing {missing}, unknown {unknown}; "
                         f"the model's inputs are {names}")
    for t in model.graph.inputs:
        value = feeds[t.name]
        if len(value.shape) != t.rank or any(d is not None and d != v for d, v in zip(t.shape, value.shape)):
            raise UsageError(f"input '{t.name}' has shape {list(value.shape)}, the model expects "
                             f"{['?' if d is None else d for d in t.shape]}")
    if engine == "edgepress":
        from edgepress.runtime_edge import Interpreter
        try:
            runner = Interpreter(model_content=model.to_bytes()).get_signature_runner()
            return runner(**{t.name: feeds[t.name].astype(t.dtype) for t in model.graph.inputs})
        except (ValueError, RuntimeError) as e:  # the tf.lite API's error types
            raise EdgepressError(f"runtime_edge cannot run {path}: {e}") from None
    return model.run(feeds)


def save_outputs(outputs: dict, directory: str) -> list[str]:
    """Each output as <name>.npy, written atomically; returns the paths."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    for name, value in outputs.items():
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        path = os.path.join(directory, safe + ".npy")
        with atomic_write(path) as f:
            np.save(f, value)
        paths.append(path)
    return paths
