"""Tiny supernet search settings shared by the supernet and bilevel tests."""

TINY = dict(C=2, N=1, epochs=2, batch_size=16, data_limit=64, verbose=False, threads=1)
