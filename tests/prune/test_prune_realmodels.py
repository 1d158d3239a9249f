"""Real models nobody here wrote. PP-OCR cls and det (rapidocr-onnxruntime 1.4.4) with 30% of FLOPs removed
by channel pruning and repaired on rendered text: FLOPs at most 0.7x, the cls orientation accuracy within 3
points of the unpruned model, det still finding every text line, and repair lowering the output error. MediaPipe's sparse face detector (float16 weights behind DENSIFY) prunes through
the TFLite reader; 2:4 sparsity of a face model gives a smaller file with its dense equivalent's outputs."""
from __future__ import annotations

import numpy as np
import pytest

import taskdata as td
from edgepress.convert import load
from edgepress.prune import prune

from helpers_prune import assert_close, check_runs_everywhere, litert_run

pytestmark = [pytest.mark.realmodel, pytest.mark.slow]

CLS_SHAPE, DET_SHAPE = [1, 3, 48, 192], [1, 3, 640, 640]
CLS_CALIBRATION, CLS_TEST = 256, 400  # fewer calibration lines repair the 1-row-per-sample head poorly
DET_CALIBRATION, DET_TEST = 8, 4
# Latency is measured by the benchmark script tests/prune/bench_realmodels.py (interleaved medians in
# ai-edge-litert), not asserted here: timings on a shared machine do not make a test.


def model_path(files: dict, kind: str) -> str:
    return next(path for name, path in files.items() if f"_{kind}_" in name)


def pruned_case(path, shape, calibration):
    original = load(path, input_shapes={"x": shape})
    pruned, report = prune(original, channels=0.3, calibration=list(td.feeds(calibration)))
    return original, pruned, report


def check_pruning(original, pruned, report, feed):
    assert report.flops_after <= 0.7 * report.flops_before
    (kinds,) = report.outputs.values()
    assert kinds["repaired"].relative_l2 < kinds["no_repair"].relative_l2
    check_runs_everywhere(pruned, [feed])


@pytest.fixture(scope="module")
def cls_case(rapidocr_model_files):
    return pruned_case(model_path(rapidocr_model_files, "cls"), CLS_SHAPE, td.cls_dataset(CLS_CALIBRATION, seed=1))


@pytest.fixture(scope="module")
def det_case(rapidocr_model_files):
    return pruned_case(model_path(rapidocr_model_files, "det"), DET_SHAPE, td.det_dataset(DET_CALIBRATION, seed=1))


def test_cls_pruned_and_repaired(cls_case):
    original, pruned, report = cls_case
    check_pruning(original, pruned, report, next(td.feeds(td.cls_dataset(1, seed=3))))


def test_cls_orientation_accuracy_within_3_points(cls_case):
    original, pruned, _ = cls_case
    lines = td.cls_dataset(CLS_TEST, seed=2)
    before = td.cls_accuracy(td.litert_model(original.to_bytes()), lines)
    after = td.cls_accuracy(td.litert_model(pruned.to_bytes()), lines)
    print(f"cls accuracy {before:.4f} -> {after:.4f}")
    assert before > 0.95 and after >= before - 0.03


def test_det_pruned_and_repaired(det_case):
    original, pruned, report = det_case
    check_pruning(original, pruned, report, next(td.feeds(td.det_dataset(1, seed=3))))


def test_det_still_finds_the_text(det_case):
    original, pruned, _ = det_case
    pages = td.det_dataset(DET_TEST, seed=2)
    before = td.det_maps(td.litert_model(original.to_bytes()), pages)
    after = td.det_maps(td.litert_model(pruned.to_bytes()), pages)
    on_before, off_before = td.det_region_means(before, pages)
    on_after, off_after = td.det_region_means(after, pages)
    cosine = td.det_map_cosine(after, before)
    print(f"det line coverage {on_before:.4f} -> {on_after:.4f}, off-text {off_before:.2g} -> {off_after:.2g}, "
          f"map cosine {cosine:.4f}")
    assert td.det_line_recall(after, pages) >= td.det_line_recall(before, pages) - 0.02
    assert on_after > on_before - 0.05 and off_after < 0.02 and cosine > 0.9


def random_feeds(model, n, seed):
    rng = np.random.default_rng(seed)
    return [{t.name: rng.uniform(-1, 1, t.shape).astype(np.float32) for t in model.graph.inputs} for _ in range(n)]


def test_face_detector_with_sparse_float16_weights_prunes(face_model_files):
    original = load(face_model_files["face_detection_full_range_sparse"])
    assert any(op.type == "DENSIFY" for op in original.graph.ops)
    cal = random_feeds(original, 4, seed=1)
    pruned, report = prune(original, channels=0.3, calibration=cal)
    assert report.flops_after <= 0.7 * report.flops_before
    assert report.channel_groups["removed_channels"] > 0
    for kinds in report.outputs.values():
        assert kinds["repaired"].relative_l2 < kinds["no_repair"].relative_l2
    check_runs_everywhere(pruned, random_feeds(original, 1, seed=2))


def test_face_model_two_of_four_sparse_file(face_model_files):
    original = load(face_model_files["face_detection_short_range"])
    pruned, report = prune(original, pattern="2:4", min_weights=512)
    assert sum(r.stored == "sparse" for r in report.sparse_layers) >= 10
    dense = prune(original, pattern="2:4", min_weights=512)[0]
    from edgepress.quantize.prepare import expand_weights
    expand_weights(dense.graph)
    sparse_bytes, dense_bytes = pruned.to_bytes(), dense.to_bytes()
    assert len(sparse_bytes) < 0.8 * len(dense_bytes)
    for feed in random_feeds(original, 2, seed=3):
        assert_close(litert_run(sparse_bytes, feed), litert_run(dense_bytes, feed), "sparse vs dense", tol=1e-6)
