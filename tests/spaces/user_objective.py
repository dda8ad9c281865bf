"""A user's space and objective, as the README writes them (imported by reference in the tests)."""

from boed_nas.spaces import Categorical, Integer, Ordered, Space

SPACE = Space(
    [Categorical("block", ["conv", "mbconv", "fused"]), Integer("depth", 1, 6), Ordered("width", [8, 16, 32, 64, 128]),
     Categorical("act", ["relu", "gelu"])],
    constraint=lambda c: not (c["block"] == "fused" and c["depth"] > 4),
    costs=lambda c: {"flops": c["depth"] * c["width"] ** 2},
    name="toy",
)


def score(c) -> float:
    """A landscape with one optimum, (mbconv, depth 4, width 32, gelu): main effects plus an interaction."""
    return (80.0 - 1.5 * (c["depth"] - 4) ** 2 - 2.0 * abs({8: 0, 16: 1, 32: 2, 64: 3, 128: 4}[c["width"]] - 2)
            + {"conv": 0.0, "mbconv": 3.0, "fused": 1.0}[c["block"]] + (2.0 if c["act"] == "gelu" and c["depth"] > 2 else 0.0))


def objective(c):
    if c["block"] == "conv" and c["width"] == 128:
        raise MemoryError("CUDA out of memory (pretend)")
    return {"val_acc": score(c)}


def objective_at_level(c, epochs):
    """``objective`` after ``epochs`` of a learning curve that saturates: a multi-fidelity objective."""
    return {"val_acc": score(c) * (1 - 0.5 ** epochs)}
