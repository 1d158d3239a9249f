"""Post-training quantization (built in the quantize issue; see README.md here)."""
