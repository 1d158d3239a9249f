"""Fuzzing seeds cut from the real models: for each model, prefixes of its first k ops with the inputs shrunk
to a quarter of their height and width. The real weights, options and op mix stay; a run costs
milliseconds instead of a whole network, so the fuzzer gets many more executions per second.
usage: python fuzz/make_seeds.py MODELS_DIR CORPUS_DIR   (needs ai-edge-litert's schema bindings)"""
import os
import sys

import flatbuffers
from ai_edge_litert import schema_py_generated as schema

PREFIX_OPS = (1, 3, 8, 20)


def prefix(content: bytes, ops: int) -> bytes:
    model = schema.ModelT.InitFromPackedBuf(content, 0)
    graph = model.subgraphs[0]
    graph.operators = graph.operators[:ops]
    graph.outputs = list(graph.operators[-1].outputs)
    for index in graph.inputs:
        shape = list(graph.tensors[index].shape)
        if len(shape) == 4:
            shape[1], shape[2] = max(1, shape[1] // 4), max(1, shape[2] // 4)
        graph.tensors[index].shape = shape
        graph.tensors[index].shapeSignature = None
    model.signatureDefs = []
    builder = flatbuffers.Builder(len(content))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def main(models_dir: str, corpus_dir: str) -> None:
    os.makedirs(corpus_dir, exist_ok=True)
    for name in sorted(os.listdir(models_dir)):
        if not name.endswith(".tflite"):
            continue
        with open(os.path.join(models_dir, name), "rb") as f:
            content = f.read()
        for ops in PREFIX_OPS:
            with open(os.path.join(corpus_dir, f"{name[:-7]}_prefix{ops}.tflite"), "wb") as f:
                f.write(prefix(content, ops))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
