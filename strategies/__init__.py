"""Baseline and comparison strategies, installed as ``boed_nas.strategies``.

Each is a plugin on the one ask/tell protocol (``boed_nas.Strategy``), registered under its name in
the ``boed_nas.strategies`` entry-point group (``pyproject.toml``), which is how the library, the CLI
and ``Strategy.load`` find them: nothing in ``boed_nas`` imports this package by name.

- ``baselines``: ``random``, ``evolution`` (regularised evolution), ``local`` (local search);
- ``bananas``: BANANAS (path encoding, MLP ensemble, Thompson sampling);
- ``supernet``: ``boed-supernet`` (boed seeded by a supernet) and ``darts`` (the supernet alone);
- ``ax``: Ax's own generation strategies, ``ax`` (default) and ``sobol``;
- ``multiobjective``: ``mo-random``, ``nsga2`` (pymoo), ``qnehvi`` and ``parego`` (botorch).

Build one with ``boed_nas.make_strategy("evolution", seed=0)``.
"""
