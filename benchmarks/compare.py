"""Benchmark edgepress against its peers on the real models, for closing notes and release notes.

    python benchmarks/compare.py [--runs 30] [--threads 1,2] [--models face_detection_full_range,ppocr_cls]

Each model runs in runtime_edge, ai-edge-litert, tflite-runtime (when EDGEPRESS_TFLITE_RUNTIME_PYTHON points
at its environment) and, for ONNX sources, onnxruntime — interleaved in one process by
edgepress.runtime_edge.bench. Prints one markdown row per (model, threads) with medians and the ratios
peer / edgepress (> 1: edgepress is faster). Models come from the pinned wheels via tests/realmodels.py.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from realmodels import face_models, rapidocr_models  # noqa: E402

from edgepress.runtime_edge.bench import bench  # noqa: E402

ONNX_SHAPES = {"ppocr_cls": ("ch_ppocr_mobile_v2.0_cls_infer", [1, 3, 48, 192]),
               "ppocr_det": ("ch_PP-OCRv4_det_infer", [1, 3, 640, 640])}


def model_paths():
    paths = {name: (path, None) for name, path in face_models().items()}
    onnx = rapidocr_models()
    for name, (stem, shape) in ONNX_SHAPES.items():
        paths[name] = (onnx[stem], {"x": shape})
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--models", default="face_detection_full_range,face_landmark,ppocr_cls,ppocr_det")
    args = parser.parse_args()
    paths = model_paths()
    threads = [int(t) for t in args.threads.split(",")]
    print("| model | threads | edgepress ms | litert ms | litert/edgepress | tflite/edgepress | onnxruntime/edgepress |")
    print("|---|---|---|---|---|---|---|")
    for name in args.models.split(","):
        path, shapes = paths[name]
        results = bench(path, ("edgepress", "litert", "tflite", "onnxruntime"), threads, args.runs,
                        input_shapes=shapes)
        for n in threads:
            by = {r.runtime: r.median_ms for r in results if r.threads == n}
            base = by.get("edgepress") or float("nan")
            ratio = lambda k: f"{by[k] / base:.2f}" if by.get(k) else "—"
            print(f"| {name} | {n} | {base:.2f} | {by.get('litert', 0):.2f} | {ratio('litert')} | "
                  f"{ratio('tflite')} | {ratio('onnxruntime')} |", flush=True)


if __name__ == "__main__":
    main()
