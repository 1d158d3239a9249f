"""Graph passes: functions IR -> IR with one job each, each returning whether it changed anything.

`optimize` runs the standard pipeline on every graph until nothing changes: fold constants, solve the
layout, fold BatchNorm, fuse activations, remove dead code.
"""
from __future__ import annotations

from ..ir import Model
from . import fold_batchnorm, fold_constants, fuse_activations, layout, remove_dead

PIPELINE = (fold_constants.run, layout.run, fold_batchnorm.run, fuse_activations.run, remove_dead.run)
MAX_ROUNDS = 8


def optimize(model: Model, nhwc_io: bool = False) -> Model:
    """Run the pipeline to a fixpoint (at most MAX_ROUNDS rounds). nhwc_io lets the layout pass make 3-D to
    5-D graph inputs and outputs channels-last; it does so in the first round only, since a second
    conversion would permute an already converted interface again."""
    for round_ in range(MAX_ROUNDS):
        changed = False
        for step in PIPELINE:
            if step is layout.run:
                changed |= layout.run(model, nhwc_io=nhwc_io and round_ == 0)
            else:
                changed |= step(model)
        if not changed:
            break
    return model
