"""Runs a .tflite model in tflite-runtime 2.14, which needs numpy < 2 and Python <= 3.11, so it lives in its
own virtual environment and is driven in a subprocess: argv = model.tflite feeds.npz outputs.npz.
Inputs and outputs are matched by signature name (serving_default), like the in-process engines."""
import sys

import numpy as np
from tflite_runtime.interpreter import Interpreter


def main(model_path, feeds_path, outputs_path):
    interp = Interpreter(model_path=model_path, num_threads=1)
    feeds = dict(np.load(feeds_path))
    outputs = interp.get_signature_runner("serving_default")(**feeds)
    np.savez(outputs_path, **outputs)


if __name__ == "__main__":
    main(*sys.argv[1:4])
