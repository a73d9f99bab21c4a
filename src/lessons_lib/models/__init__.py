"""Models built from a cell and a read-out: a character language model, a sequence regressor, a per-step tagger over stacked networks, and n-gram baselines.
"""
