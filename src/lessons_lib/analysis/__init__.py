"""Measurements of what the cells do: gradient flow through time, gate-by-gate anatomy, memory of a pulse.
"""
