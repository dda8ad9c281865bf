"""The Pareto search: accuracy against known costs (latency, FLOPs, params), on NB201 or a space
of your own.

- ``controller``: ``MultiObjectiveBOED`` (``boed-mo``): one GP of the measured objective, the
  costs read from the space;
- ``acquisition``: its acquisitions, one class each (exact EHVI, Pareto-front entropy search);
- ``pareto``: the problem (objectives, constraints, the feasible pool), fronts and hypervolumes.
"""
