"""`edgepress prune`: the click command (registered on the main group by edgepress/cli.py)."""
from __future__ import annotations

import time

import click

from edgepress.quantize.cli import image_options, image_options_from

from .select import TARGETS
from .sparsity import METHODS, SCOPES


@click.command("prune")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="output .tflite path")
@click.option("--channels", type=float, metavar="RATIO",
              help="remove this fraction of FLOPs (or channels, --target) by channel pruning, e.g. 0.3")
@click.option("--target", default="flops", show_default=True, type=click.Choice(TARGETS),
              help="what --channels is a fraction of")
@click.option("--sparsity", type=float, metavar="RATIO", help="zero this fraction of weights, e.g. 0.5")
@click.option("--pattern", metavar="N:M", help="N:M sparsity instead, e.g. 2:4")
@click.option("--method", default="activation", show_default=True, type=click.Choice(METHODS),
              help="sparsity criterion: |W|, or |W| x input RMS (needs --calibration)")
@click.option("--scope", default="layer", show_default=True, type=click.Choice(SCOPES),
              help="sparsity target per layer or over all layers")
@click.option("--calibration", type=click.Path(exists=True), metavar="DATA",
              help="folder of images, .npy (one input) or .npz (keyed by input name)")
@click.option("--samples", type=click.IntRange(min=1), help="use at most this many calibration samples")
@click.option("--exclude", multiple=True, metavar="NAME", help="leave this layer whole (source node name); repeatable")
@click.option("--min-channels", default=8, show_default=True, type=click.IntRange(min=1),
              help="fewest channels a layer keeps")
@click.option("--multiple", default=8, show_default=True, type=click.IntRange(min=1),
              help="pruned layers keep a multiple of this many channels (SIMD widths)")
@click.option("--max-layer-ratio", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="most of a layer's channels that may go")
@click.option("--no-repair", is_flag=True, help="skip the least-squares refit of pruned layers")
@click.option("--min-weights", default=1024, show_default=True, type=click.IntRange(min=1),
              help="sparsify layers with at least this many weights")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="write the full report as JSON")
@click.option("--input-shape", "input_shapes", multiple=True, metavar="NAME=D1,D2,...",
              help="fix an input's shape (source layout); repeatable")
@image_options
def prune(model, output, channels, target, sparsity, pattern, method, scope, calibration, samples, exclude,
          min_channels, multiple, max_layer_ratio, no_repair, min_weights, report_path, input_shapes, input_size,
          mean, std, layout, color):
    """Prune an .onnx or .tflite MODEL (channels and/or sparsity) to a standard .tflite file."""
    from edgepress.cli import parse_input_shapes

    from .api import prune as run
    images = image_options_from(input_size, mean, std, layout, color)
    start = time.perf_counter()
    pruned, report = run(model, channels=channels, sparsity=sparsity, target=target, pattern=pattern, method=method,
                         scope=scope, calibration=calibration, max_samples=samples, images=images, exclude=exclude,
                         min_channels=min_channels, multiple=multiple, max_layer_ratio=max_layer_ratio,
                         repair_layers=not no_repair,
                         min_weights=min_weights, input_shapes=parse_input_shapes(input_shapes))
    pruned.save(output)
    if report_path:
        report.save(report_path)
    click.echo(report.summary())
    click.echo(f"wrote {output} in {time.perf_counter() - start:.1f} s")


SPEC_KEYS = {"channels": float, "target": str, "sparsity": float, "pattern": str, "method": str, "scope": str,
             "min_channels": int, "multiple": int, "max_layer_ratio": float, "min_weights": int}


def parse_spec(value: str) -> dict:
    """`--prune` on other commands: 'channels=0.3' or 'pattern=2:4,method=magnitude' -> prune() keywords."""
    from edgepress.errors import UsageError
    options = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in SPEC_KEYS:
            raise UsageError(f"--prune '{value}': expected KEY=VALUE[,KEY=VALUE...] with keys "
                             f"{', '.join(SPEC_KEYS)}, e.g. channels=0.3")
        try:
            options[key] = SPEC_KEYS[key](text.strip())
        except ValueError:
            raise UsageError(f"--prune {key}={text}: expected a {SPEC_KEYS[key].__name__}") from None
    if not options:
        raise UsageError(f"--prune '{value}': nothing to do, e.g. channels=0.3")
    return options
