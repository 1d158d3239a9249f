"""TFLite flatbuffers in and out of the IR.

schema.py    op names and codes, options tables and their (de)serialization, dtypes <-> TensorType
versions.py  operator versions and minimum runtime, as data
writer.py    IR Model -> .tflite bytes / file (atomic)
reader.py    .tflite bytes / file -> IR Model (ModelFormatError for anything malformed)
strings.py   the packed layout of string tensors
"""
