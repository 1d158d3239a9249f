"""Task-level data and metrics for the PP-OCR models (rapidocr-onnxruntime 1.4.4): seeded text rendered
with Pillow in DejaVu (Debian fonts-dejavu-core), PP-OCR preprocessing, and task scores for any model
callable. See evaluate.py for the callable convention."""
from .datasets import Sample, cls_dataset, det_dataset, feeds, rec_dataset
from .evaluate import (cls_accuracy, det_line_recall, det_map_cosine, det_maps, det_region_means, line_coverage,
                       only_output, predict, rec_char_accuracy, rec_texts)
from .metrics import accuracy, char_accuracy, cosine, edit_distance
from .ppocr import CLS_LABELS, box_mask, ctc_greedy_decode, rec_charset
from .preprocess import from_layout, to_layout
from .runners import litert_model, onnxruntime_model

__all__ = ["Sample", "cls_dataset", "det_dataset", "feeds", "rec_dataset",
           "cls_accuracy", "det_line_recall", "det_map_cosine", "det_maps", "det_region_means", "line_coverage",
           "only_output", "predict", "rec_char_accuracy", "rec_texts",
           "accuracy", "char_accuracy", "cosine", "edit_distance",
           "CLS_LABELS", "box_mask", "ctc_greedy_decode", "rec_charset",
           "from_layout", "to_layout", "litert_model", "onnxruntime_model"]
