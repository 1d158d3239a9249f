"""edgepress: edge and mobile model optimization toolchain.

Components live in this namespace: edgepress.convert, edgepress.quantize, edgepress.prune,
edgepress.runtime_edge.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("edgepress")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

from .errors import EdgepressError  # noqa: E402

__all__ = ["EdgepressError", "__version__"]
