"""Shared test helpers."""


def drive(strategy, bench, steps, *, batch=1):
    """ask/tell ``steps`` cells on ``bench``; return them as arch strings, in order."""
    out = []
    while len(out) < steps:
        for cell in strategy.ask(batch):
            strategy.tell(cell, bench.evaluate(cell))
            out.append(str(cell))
    return out
