"""Task data and metrics for PP-OCR: the helpers on known cases, then the float ONNX models under
onnxruntime on the rendered data (cls orientation accuracy, rec character accuracy, det probability map on
the text and off it), and a converted --nhwc-io model through ai-edge-litert."""
import numpy as np
import pytest

import taskdata as td
from taskdata.preprocess import CLS_SHAPE, REC_SHAPE, line_input
from taskdata.render import page_image

CLS_LINES, REC_WORDS, DET_PAGES = 200, 100, 4


def model_path(files: dict, kind: str) -> str:
    return next(path for name, path in files.items() if f"_{kind}_" in name)


@pytest.fixture(scope="module")
def cls_lines():
    return td.cls_dataset(CLS_LINES)


@pytest.mark.parametrize("a, b, distance", [("kitten", "sitting", 3), ("", "abc", 3), ("abc", "", 3),
                                            ("flaw", "lawn", 2), ("same", "same", 0), ("ab", "ba", 2)])
def test_edit_distance(a, b, distance):
    assert td.edit_distance(a, b) == distance == td.edit_distance(b, a)


def test_char_accuracy_counts_edits_over_target_length_and_ignores_margin_spaces():
    assert td.char_accuracy([" hello ", "world "], ["hello", "world"]) == 1.0
    assert td.char_accuracy(["helo", "world"], ["hello", "world"]) == pytest.approx(0.9)
    assert td.char_accuracy(["x" * 50], ["ab"]) == 0.0


def test_ctc_greedy_decode_collapses_repeats_then_drops_blanks():
    charset = ["<blank>", "a", "b", " "]
    steps = [0, 1, 1, 0, 1, 2, 2, 3, 3, 0, 2]
    probs = np.eye(len(charset), dtype=np.float32)[steps][None] * 0.9 + 0.025
    assert td.ctc_greedy_decode(probs, charset) == "aab b"
    with pytest.raises(ValueError):
        td.ctc_greedy_decode(np.eye(5, dtype=np.float32), charset)


def test_cosine_and_map_cosine():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert td.cosine(a, 2 * a) == pytest.approx(1.0)
    assert td.cosine(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(0.0)
    assert td.det_map_cosine([a, a], [a, -a]) == pytest.approx(0.0)


def test_datasets_are_deterministic_and_seeded():
    first, again, other = td.cls_dataset(6, seed=3), td.cls_dataset(6, seed=3), td.cls_dataset(6, seed=4)
    assert [s.target for s in first] == [0, 1, 0, 1, 0, 1]
    assert all(np.array_equal(a.x, b.x) for a, b in zip(first, again))
    assert not np.array_equal(first[0].x, other[0].x)
    assert [s.target for s in td.rec_dataset(5, seed=1)] == [s.target for s in td.rec_dataset(5, seed=1)]


def test_line_input_keeps_aspect_and_pads_with_zero():
    gray = np.full((24, 40), 255, np.uint8)
    gray[:, :20] = 0
    x = line_input(gray, CLS_SHAPE)
    assert x.shape == (1, 3, *CLS_SHAPE) and x.dtype == np.float32
    assert np.all(x[..., 80:] == 0)  # 40 x 24 -> 80 x 48, then padding
    assert np.allclose(x[..., :38], -1) and np.allclose(x[..., 42:80], 1)
    wide = line_input(np.zeros((10, 1000), np.uint8), REC_SHAPE)
    assert np.allclose(wide, -1)  # wider than the model: squeezed to the full width, no padding


def test_page_boxes_hold_all_the_ink():
    page = page_image(np.random.default_rng(5))
    boxes = [line.box for line in page.lines]
    ink = page.pixels < 128  # text is drawn at <= 70 on a >= 200 background, noise sigma <= 6
    assert len(boxes) >= 5
    assert not np.any(ink & ~td.box_mask(boxes, ink.shape, grow=1))
    assert all(ink[y0:y1, x0:x1].any() for x0, y0, x1, y1 in boxes)


def test_layout_round_trip_touches_only_4d_tensors():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    assert td.to_layout(x, "NHWC").shape == (2, 4, 5, 3)
    assert np.array_equal(td.from_layout(td.to_layout(x, "NHWC"), "NHWC"), x)
    seq = np.zeros((1, 40, 7))
    assert td.to_layout(seq, "NHWC") is seq and td.from_layout(seq, "NHWC") is seq
    with pytest.raises(ValueError):
        td.to_layout(x, "CHWN")


def test_det_metrics_on_made_up_maps():
    dataset = td.det_dataset(1, seed=2)
    shape = dataset[0].x.shape[-2:]
    perfect = td.box_mask([line.box for line in dataset[0].target], shape).astype(np.float32)
    assert td.det_region_means([perfect], dataset) == (1.0, 0.0)
    assert td.det_line_recall([perfect], dataset) == 1.0
    blank = np.zeros(shape, np.float32)
    assert td.det_region_means([blank], dataset) == (0.0, 0.0)
    assert td.det_line_recall([blank], dataset) == 0.0


def test_nhwc_model_outputs_come_back_nchw():
    """A stand-in NHWC det model that returns its first input channel: det_maps must give it back in H x W."""
    dataset = td.det_dataset(1, seed=2)
    seen = []
    maps = td.det_maps(lambda f: seen.append(f["x"].shape) or [f["x"][..., :1]], dataset, layout="NHWC")
    assert seen == [(1, 640, 640, 3)]
    assert np.array_equal(maps[0], dataset[0].x[0, 0])


@pytest.mark.realmodel
def test_cls_float_orientation_accuracy(rapidocr_model_files, cls_lines):
    model = td.onnxruntime_model(model_path(rapidocr_model_files, "cls"))
    for label in (0, 1):  # each orientation on its own: a model stuck on one answer scores 50% overall
        subset = [s for s in cls_lines if s.target == label]
        acc = td.cls_accuracy(model, subset)
        assert acc >= 0.9, f"cls accuracy {acc:.3f} on {len(subset)} lines at {td.CLS_LABELS[label]} degrees"


@pytest.mark.realmodel
@pytest.mark.slow
def test_rec_float_character_accuracy(rapidocr_model_files):
    path = model_path(rapidocr_model_files, "rec")
    charset = td.rec_charset(path)
    model = td.onnxruntime_model(path)
    dataset = td.rec_dataset(REC_WORDS)
    assert td.only_output(model({"x": dataset[0].x})).shape[-1] == len(charset)
    texts = td.rec_texts(model, dataset, charset)
    acc = td.char_accuracy(texts, [s.target for s in dataset])
    assert acc >= 0.85, f"rec character accuracy {acc:.3f}: " + ", ".join(
        f"{s.target!r}->{t!r}" for s, t in zip(dataset, texts) if t.strip() != s.target)


@pytest.mark.realmodel
def test_det_float_map_marks_text_and_only_text(rapidocr_model_files):
    dataset = td.det_dataset(DET_PAGES)
    maps = td.det_maps(td.onnxruntime_model(model_path(rapidocr_model_files, "det")), dataset)
    on_text, off_text = td.det_region_means(maps, dataset)
    assert on_text > 0.9 and off_text < 0.01, (on_text, off_text)
    assert td.det_line_recall(maps, dataset) >= 0.95
    assert td.det_map_cosine(maps, maps) == pytest.approx(1.0)


@pytest.mark.realmodel
@pytest.mark.slow
def test_converted_nhwc_cls_in_litert_matches_onnxruntime(rapidocr_model_files, cls_lines):
    from edgepress.convert import load
    path = model_path(rapidocr_model_files, "cls")
    converted = td.litert_model(load(path, input_shapes={"x": [1, 3, *CLS_SHAPE]}, nhwc_io=True).to_bytes())
    float_scores = td.predict(td.onnxruntime_model(path), cls_lines)
    nhwc_scores = td.predict(converted, cls_lines, layout="NHWC")
    assert all(a.shape == b.shape == (1, 2) for a, b in zip(float_scores, nhwc_scores))
    assert [int(np.argmax(a)) for a in float_scores] == [int(np.argmax(b)) for b in nhwc_scores]
    assert td.cls_accuracy(converted, cls_lines, layout="NHWC") >= 0.9
