"""Runs .tflite models in tflite-runtime 2.14, which needs numpy < 2 and Python <= 3.11, so it lives in its
own virtual environment and is driven from the tests as a long-lived subprocess.

Protocol: one request per stdin line, "model.tflite<TAB>feeds.npz<TAB>outputs.npz"; one reply line, "ok" or
"error: <message>". Inputs and outputs are matched by signature name (serving_default), like the in-process
engines. A crash of the interpreter ends the process; the caller reports it and starts a new one.
With three arguments (model.tflite feeds.npz outputs.npz) it runs that one model and exits."""
import sys

import numpy as np
from tflite_runtime.interpreter import Interpreter


def run(model_path, feeds_path, outputs_path):
    interp = Interpreter(model_path=model_path, num_threads=1)
    feeds = dict(np.load(feeds_path))
    outputs = interp.get_signature_runner("serving_default")(**feeds)
    np.savez(outputs_path, **outputs)


def main():
    for line in sys.stdin:
        try:
            run(*line.rstrip("\n").split("\t"))
            reply = "ok"
        except Exception as e:  # reported to the test, which fails with this message
            reply = "error: " + " ".join(str(e).split())
        sys.stdout.write(reply + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    if len(sys.argv) == 4:  # one model per process: model.tflite feeds.npz outputs.npz
        run(*sys.argv[1:4])
    else:
        main()
