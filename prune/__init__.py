"""Post-training pruning and sparsity (see README.md here): structured channel pruning with least-squares
repair, unstructured and N:M sparsity stored in TFLite's sparse format, and a report of what it cost."""
from .api import prune
from .report import Report

__all__ = ["prune", "Report"]
