"""The classroom layer: checkers that run a reader's exercise code against the library's reference.

The top layer: it may use every other one.
"""
