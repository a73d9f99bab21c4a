"""Models built from a cell and a read-out: a character language model, a sequence regressor, and n-gram baselines.
"""
