"""The `edgepress` command line: thin wrappers that compose the library's functions.

Every EdgepressError becomes one `error: ...` message on stderr and exit status 1; no traceback, and no
output file is left behind (writers are atomic).
"""
from __future__ import annotations

import sys
import time

import click

from .errors import EdgepressError, UsageError


class Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except EdgepressError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(1)


def parse_input_shapes(values) -> dict:
    """['x=1,3,224,224', ...] -> {'x': [1, 3, 224, 224]}"""
    shapes = {}
    for value in values:
        name, sep, dims = value.rpartition("=")
        try:
            shape = [int(d) for d in dims.split(",")] if sep and name else None
        except ValueError:
            shape = None
        if not shape or any(d <= 0 for d in shape):
            raise UsageError(f"--input-shape '{value}': expected NAME=D1,D2,... with positive integers, "
                             f"e.g. x=1,3,224,224")
        shapes[name] = shape
    return shapes


def parse_inputs(values) -> dict:
    import numpy as np
    feeds = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise UsageError(f"--input '{value}': expected NAME=file.npy")
        try:
            feeds[name] = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise UsageError(f"--input {name}: cannot read '{path}' as .npy ({e})") from None
    return feeds


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="edgepress")
def main():
    """edgepress: convert, compress and run models for edge and mobile devices."""


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="output .tflite path")
@click.option("--input-shape", "input_shapes", multiple=True, metavar="NAME=D1,D2,...",
              help="fix an input's shape (source layout); repeatable")
@click.option("--nhwc-io", is_flag=True, help="make image inputs/outputs NHWC (drops boundary transposes)")
@click.option("--prune", "prune_spec", metavar="KEY=VALUE,...",
              help="prune after converting, e.g. channels=0.3 or sparsity=0.5,pattern=2:4 (see `edgepress prune`)")
@click.option("--quantize", "scheme", type=click.Choice(["float16", "dynamic", "int8", "int16x8"]),
              help="quantize after converting (and pruning); see `edgepress quantize`")
@click.option("--calibration", type=click.Path(exists=True), metavar="DATA",
              help="calibration samples for --prune and --quantize: image folder, .npy or .npz")
@click.option("--io-type", default="float32", show_default=True, type=click.Choice(["float32", "int8", "uint8"]),
              help="input/output type of a fully integer model")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="write prune/quantize reports as JSON")
def convert(model, output, input_shapes, nhwc_io, prune_spec, scheme, calibration, io_type, report_path):
    """Convert an .onnx or .tflite MODEL to a standard .tflite file, optionally pruned and quantized."""
    from .convert import load
    from .convert.summary import summarize
    start = time.perf_counter()
    ir = load(model, input_shapes=parse_input_shapes(input_shapes), nhwc_io=nhwc_io)
    reports = {}
    if prune_spec:
        from edgepress.prune import prune
        from edgepress.prune.cli import parse_spec
        ir, reports["prune"] = prune(ir, calibration=calibration, **parse_spec(prune_spec))
    if scheme:
        from edgepress.quantize import quantize
        ir, reports["quantize"] = quantize(ir, scheme, calibration=calibration, io_type=io_type)
    size = ir.save(output)
    elapsed = time.perf_counter() - start
    for report in reports.values():
        click.echo(report.summary())
    if report_path:
        from .files import write_json
        write_json(report_path, {name: report.to_dict() for name, report in reports.items()})
    click.echo(summarize(ir, size, elapsed, output))



@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--top", default=10, show_default=True, help="how many of the largest tensors to list")
def inspect(model, top):
    """Describe an .onnx or .tflite MODEL: inputs/outputs, op histogram, largest tensors, size."""
    from .convert.inspect import describe
    click.echo(describe(model, top=top))


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--input", "inputs", multiple=True, metavar="NAME=FILE.npy", help="an input value; repeatable")
@click.option("--input-shape", "input_shapes", multiple=True, metavar="NAME=D1,D2,...")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), help="save each output as NAME.npy here")
@click.option("--engine", type=click.Choice(["reference", "edgepress"]), default="reference", show_default=True,
              help="reference: NumPy evaluator on the IR; edgepress: the runtime_edge C interpreter")
def run(model, inputs, input_shapes, output_dir, engine):
    """Run MODEL on .npy inputs and print (or save) its outputs."""
    from .convert.run import run_model, save_outputs
    outputs = run_model(model, parse_inputs(inputs), parse_input_shapes(input_shapes), engine)
    for name, value in outputs.items():
        stats = (f"min {value.min():.6g} max {value.max():.6g} mean {value.mean():.6g}"
                 if value.size and value.dtype.kind in "fiu" else "")
        click.echo(f"{name}: {value.dtype}{list(value.shape)} {stats}")
    if output_dir:
        for path in save_outputs(outputs, output_dir):
            click.echo(f"wrote {path}")


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--runtime", "runtimes", default="edgepress,litert", show_default=True,
              help="comma-separated: edgepress, litert, tflite, onnxruntime")
@click.option("--threads", default="1", show_default=True, help="thread counts, comma-separated, e.g. 1,2")
@click.option("--runs", default=30, show_default=True, help="timed runs per runtime (after warm-up)")
@click.option("--warmup", default=3, show_default=True)
@click.option("--input-shape", "input_shapes", multiple=True, metavar="NAME=D1,D2,...")
@click.option("--profile", is_flag=True, help="per-op time profile for runtime_edge")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
def bench(model, runtimes, threads, runs, warmup, input_shapes, profile, as_json):
    """Benchmark MODEL in runtime_edge beside other runtimes, interleaved in one run."""
    from edgepress.runtime_edge import bench as b
    try:
        thread_counts = [int(t) for t in threads.split(",")]
    except ValueError:
        raise UsageError(f"--threads '{threads}': expected integers such as 1,2") from None
    results = b.bench(model, [r.strip() for r in runtimes.split(",") if r.strip()], thread_counts, runs, warmup,
                      profile, parse_input_shapes(input_shapes))
    click.echo(b.to_json(results) if as_json else b.format_table(results))


def register_component_commands():
    """quantize and prune define their own commands next to their code."""
    from edgepress.prune.cli import prune
    from edgepress.quantize.cli import quantize
    main.add_command(quantize)
    main.add_command(prune)


register_component_commands()

if __name__ == "__main__":
    sys.exit(main())
