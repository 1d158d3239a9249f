"""Scale: a ResNet-50-sized model converts in under 30 s with peak memory under 4x its weight bytes.

Conversion runs in a fresh subprocess so its peak RSS is its own (VmHWM, which exec resets; ru_maxrss would
inherit the test process's peak through fork); the figure compared with the weights is the growth over the
process's RSS after imports, printed for the closing note.
"""
import json
import subprocess
import sys

import onnx
import pytest

from resnet50 import build_resnet50, weight_bytes

CHILD = r"""
import json, sys, time
import edgepress.convert, edgepress.convert.onnx.importer, edgepress.convert.tflite.writer, edgepress.convert.passes
def status_mb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":")) / 1024
base = status_mb("VmRSS")
start = time.perf_counter()
model = edgepress.convert.load(sys.argv[1])
size = model.save(sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - start, "base_mb": base, "peak_mb": status_mb("VmHWM"), "size": size}))
"""


@pytest.mark.slow
def test_resnet50_sized_model_converts_fast_and_lean(tmp_path):
    model = build_resnet50()
    weights = weight_bytes(model)
    assert 24e6 * 4 < weights < 27e6 * 4
    src, out = tmp_path / "resnet50.onnx", tmp_path / "resnet50.tflite"
    onnx.save(model, src)
    del model
    done = subprocess.run([sys.executable, "-c", CHILD, src, out], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    growth = (stats["peak_mb"] - stats["base_mb"]) * 2**20
    print(f"\nresnet50: {weights / 1e6:.1f} MB weights, converted in {stats['seconds']:.1f} s, "
          f"peak RSS growth {growth / 1e6:.0f} MB = {growth / weights:.2f}x weights, file {stats['size'] / 1e6:.1f} MB")
    assert stats["seconds"] < 30
    assert growth < 4 * weights
    assert weights * 0.99 < stats["size"] < weights * 1.05
