"""`python -m edgepress.examples` prints the path of the bundled example model, for shell use."""
import os

print(os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_cnn.onnx"))
