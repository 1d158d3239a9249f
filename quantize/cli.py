"""`edgepress quantize`: the click command (registered on the main group by edgepress/cli.py)."""
from __future__ import annotations

import time
import warnings

import click

from edgepress.errors import UsageError

from .api import ENGINES, FALLBACKS, PRESETS, SCHEMES, TARGETS, BudgetWarning, StaysFloatWarning
from .calibrators import CALIBRATORS
from .data import ImageOptions


def floats(option: str, value: str | None, count: int | None = None) -> tuple | None:
    """'0.5,0.5,0.5' -> (0.5, 0.5, 0.5)"""
    if value is None:
        return None
    try:
        parsed = tuple(float(v) for v in value.split(","))
    except ValueError:
        parsed = ()
    if not parsed or (count is not None and len(parsed) != count):
        raise UsageError(f"{option} '{value}': expected {count or 'one or more'} comma-separated numbers")
    return parsed


IMAGE_OPTIONS = (
    click.option("--input-size", metavar="H,W", help="image size for a folder of images (default: the input's)"),
    click.option("--mean", metavar="M[,M,M]", help="per-channel mean, on pixels scaled to [0, 1]"),
    click.option("--std", metavar="S[,S,S]", help="per-channel standard deviation, on pixels scaled to [0, 1]"),
    click.option("--layout", default="auto", show_default=True, type=click.Choice(["auto", "NCHW", "NHWC"])),
    click.option("--color", default="RGB", show_default=True, type=click.Choice(["RGB", "BGR", "GRAY"])),
)


def image_options(command):
    """The options that turn a folder of images into calibration samples (quantize and prune share them)."""
    for option in reversed(IMAGE_OPTIONS):
        command = option(command)
    return command


def image_options_from(input_size, mean, std, layout, color) -> ImageOptions:
    size = floats("--input-size", input_size, 2)
    return ImageOptions(size=tuple(int(v) for v in size) if size else None, mean=floats("--mean", mean) or (0.0,),
                        std=floats("--std", std) or (1.0,), layout=layout, color=color)


@click.command("quantize")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="output .tflite path")
@click.option("--scheme", required=True, type=click.Choice(SCHEMES), help="what to quantize, and to what")
@click.option("--calibration", type=click.Path(exists=True), metavar="DATA",
              help="folder of images, .npy (one input) or .npz (keyed by input name)")
@click.option("--io-type", default="float32", show_default=True,
              type=click.Choice(["float32", "int8", "uint8", "int16"]),
              help="type of the model's inputs and outputs (full-integer schemes)")
@click.option("--calibrator", default="minmax", show_default=True, type=click.Choice(sorted(CALIBRATORS)))
@click.option("--keep-float", multiple=True, metavar="NAME_OR_OP_TYPE",
              help="keep these ops float: an op type, a source node name or an output name; repeatable")
@click.option("--keep-int16", multiple=True, metavar="NAME_OR_OP_TYPE",
              help="int8 models: run these ops with int16 activations (int16x8 kernels); repeatable")
@click.option("--strict", is_flag=True, help="fail instead of keeping unquantizable ops float")
@click.option("--bias-correction/--no-bias-correction", default=True, show_default=True,
              help="cancel the mean output shift of quantized weights (with calibration data)")
@click.option("--equalize", is_flag=True, help="cross-layer equalization of conv/depthwise/FC pairs with ReLU, "
              "PReLU, leaky ReLU, zero padding or nothing between, before calibration")
@click.option("--samples", type=click.IntRange(min=1), help="use at most this many calibration samples")
@click.option("--max-drop", type=float, help="accuracy budget: keep the most sensitive layers float until the "
              "metric's drop on held-out samples is at most this")
@click.option("--metric", default="cosine", show_default=True, type=click.Choice(["cosine", "top1", "mse"]),
              help="budget metric: 1 - output cosine, top-1 changes, relative mean squared error")
@click.option("--budget-fallback", default="float", show_default=True, type=click.Choice(FALLBACKS),
              help="what --max-drop keeps its most sensitive layers in: float, or int16x8 (int8 models)")
@click.option("--held-out", default=4, show_default=True, type=click.IntRange(min=1),
              help="calibration samples set aside to measure the budget metric")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="write the full report as JSON")
@click.option("--input-shape", "input_shapes", multiple=True, metavar="NAME=D1,D2,...",
              help="fix an input's shape (source layout); repeatable")
@click.option("--engine", default="edgepress", show_default=True, type=click.Choice(ENGINES),
              help="nncf: NNCF's post-training quantization of an ONNX model (pip install edgepress[nncf])")
@click.option("--preset", default="performance", show_default=True, type=click.Choice(PRESETS),
              help="NNCF preset (--engine nncf): symmetric or mixed (asymmetric activations)")
@click.option("--target", default="xnnpack", show_default=True, type=click.Choice(TARGETS),
              help="full-integer models: xnnpack writes ops litert's CPU delegate runs in int8 (HARD_SWISH as "
              "ADD/MUL); builtin keeps TFLite's own ops (NPU delegates, TFLite Micro)")
@image_options
def quantize(model, output, scheme, calibration, io_type, calibrator, keep_float, keep_int16, strict, bias_correction,
             equalize, samples, max_drop, metric, budget_fallback, held_out, report_path, input_shapes, engine, preset,
             target, input_size, mean, std, layout, color):
    """Quantize an .onnx or .tflite MODEL to a standard quantized .tflite file."""
    from edgepress.cli import parse_input_shapes

    from .api import quantize as run
    images = image_options_from(input_size, mean, std, layout, color)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StaysFloatWarning)
        warnings.simplefilter("always", BudgetWarning)
        qmodel, report = run(model, scheme, calibration, io_type=io_type, calibrator=calibrator,
                             keep_float=keep_float, keep_int16=keep_int16, strict=strict,
                             bias_correction=bias_correction, equalize=equalize, max_drop=max_drop, metric=metric,
                             budget_fallback=budget_fallback, held_out=held_out, max_samples=samples, images=images,
                             input_shapes=parse_input_shapes(input_shapes), engine=engine, preset=preset, target=target)
    for w in caught:
        if issubclass(w.category, (StaysFloatWarning, BudgetWarning)):
            click.echo(f"warning: {w.message}", err=True)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    qmodel.save(output)
    if report_path:
        report.save(report_path)
    click.echo(report.summary())
    click.echo(f"wrote {output} in {time.perf_counter() - start:.1f} s")
