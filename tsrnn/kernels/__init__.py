"""Numba kernels: pure functions over arrays, no validation, no pandas, no strings.

Nothing below this package knows DataFrames or estimators; nothing above it loops
over time steps.
"""
