"""The single-objective BOED controller (``boed``) and the parts it is composed of.

- ``controller``: ``BOEDController``, the strategy: propose, believe, acquire, recommend;
- ``config``: ``BOEDConfig``, its settings (one frozen dataclass);
- ``inputs``: GP inputs, kernel features and signals of a space (NB201's cells or a ``Space``);
- ``pool``: the candidate pool (every configuration, or a generated set on a large space);
- ``model`` and ``belief``: the GP (gpytorch/botorch), its fit schedule and pending fantasies;
- ``acquisition``: one class per acquisition over the pool (``mes``, ``es``, ``jes``, ``ei``, ``ucb``, ``ts``);
- ``design``: the initial design; ``fidelity``: the belief and acquisition over (network, fidelity level).
"""
