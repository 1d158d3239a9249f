"""A typical script written for tflite_runtime (not by us for edgepress): run a face detector on a
random image and save every output. test_dropin.py runs it with only the import line swapped.
usage: python tflite_runtime_script.py MODEL OUT.npz"""
import sys

import numpy as np
from tflite_runtime.interpreter import Interpreter

interpreter = Interpreter(model_path=sys.argv[1], num_threads=2)
interpreter.allocate_tensors()
input_details = interpreter.get_input_details()
output_details = interpreter.get_output_details()

height, width = input_details[0]["shape"][1:3]
image = np.random.default_rng(0).integers(0, 256, (height, width, 3)).astype(np.float32)
input_data = np.expand_dims((image - 127.5) / 127.5, axis=0).astype(input_details[0]["dtype"])

interpreter.set_tensor(input_details[0]["index"], input_data)
interpreter.invoke()
results = {d["name"]: interpreter.get_tensor(d["index"]) for d in output_details}

# Zero-copy access, the documented tensor() pattern: fill the input in place and run again.
input_view = interpreter.tensor(input_details[0]["index"])
input_view()[0] = input_data[0][::-1]
interpreter.invoke()
results.update({"flipped/" + d["name"]: interpreter.get_tensor(d["index"]) for d in output_details})

for name, value in results.items():
    print(name, value.shape, value.dtype)
np.savez(sys.argv[2], **{name.replace("/", "|"): value for name, value in results.items()})
