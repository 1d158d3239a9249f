"""(being written)"""
LOWERINGS = {}
