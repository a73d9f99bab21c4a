"""Measurements of what the cells do: gradient flow through time (and through stacked layers), gate-by-gate anatomy, memory of a pulse.
"""
