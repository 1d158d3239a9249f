"""Model callables (feeds -> outputs) for the engines the tests compare."""
from __future__ import annotations


def onnxruntime_model(model, threads: int = 1):
    """model: a path, serialized bytes or an onnx.ModelProto."""
    import onnxruntime as ort
    data = model.SerializeToString() if hasattr(model, "SerializeToString") else model
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    return lambda feeds: session.run(None, feeds)


def litert_model(model: str | bytes, threads: int = 1):
    """A .tflite path or its bytes, run by ai-edge-litert through its serving_default signature."""
    from ai_edge_litert.interpreter import Interpreter
    kwargs = {"model_content": model} if isinstance(model, (bytes, bytearray)) else {"model_path": model}
    runner = Interpreter(**kwargs, num_threads=threads).get_signature_runner("serving_default")
    return lambda feeds: runner(**feeds)
