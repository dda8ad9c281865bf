"""boed-nas inside other tools: ``ax`` (the BOED controller as an Ax generation node, Ax's own
queries answered by its belief) and ``optuna`` (``BOEDSampler``, an Optuna sampler). Each imports
its tool on import; nothing else in boed-nas imports them."""
