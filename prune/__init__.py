"""Post-training pruning and sparsity (built in the prune issue; see README.md here)."""
