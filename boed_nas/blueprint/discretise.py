"""From architecture logits to a discrete blueprint that meets a hard budget; the hand-made baseline.

Derivation: the argmax of every choice group (a block is kept when P(keep) > 1/2). If a budget is
given and the argmax blueprint's exact cost is over it, the *repair* steps choices down until it
fits, greedily and deterministically:

* a move changes one choice to a cheaper option (a smaller kernel, a narrower stage, a bypassed
  block); its price is the log-probability the blueprint loses under the search's distribution;
* if some move alone reaches the budget, take the one of those that loses the least probability;
* otherwise take the most cost-effective move, the largest cost saved per unit of log-probability
  lost, and repeat.

Every move lowers the exact cost and the space's smallest blueprint has the lowest cost, so the
repair ends, inside the budget, whenever the budget is feasible at all (else ConfigError before any
search). The result is then counted again on the built network (FlopCounterMode / parameter count):
the budget guarantee is on that count, not on the expected cost.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .cost import EXACT_METRICS, BlueprintCosts, count_params, network_flops
from .network import BlueprintNetwork
from .space import BYPASS, GATE_OPTIONS, Blueprint, BlueprintSpace

_EPS = 1e-9
_REL = 1e-12  # float round-off when costs are sums of per-part entries; one FLOP is 1e-6 MFLOPs, far above it


def fits(cost: float, budget: float) -> bool:
    """``cost <= budget`` up to float round-off (not up to a FLOP or a parameter)."""
    return cost <= budget * (1 + _REL)


def group_log_probs(alpha, space: BlueprintSpace) -> list[np.ndarray]:
    """log softmax(alpha) within each group (``alpha`` flat, the layout of ``space.groups()``)."""
    a = np.asarray(alpha, dtype=np.float64).reshape(-1)
    if a.shape != (space.n_logits,) or not np.all(np.isfinite(a)):
        raise ConfigError(f"alpha must be a finite vector of {space.n_logits} logits for this space, got shape {a.shape}")
    out = []
    for g in space.groups():
        x = a[g.slice]
        m = x.max()
        out.append(x - m - np.log(np.exp(x - m).sum()))
    return out


def blueprint_log_prob(logp: list[np.ndarray], space: BlueprintSpace, bp: Blueprint) -> float:
    """log P(blueprint) under independent groups; a bypassed block's kernel group sums out (adds 0)."""
    total = 0.0
    for g, i, lp in zip(space.groups(), space.to_indices(bp), logp):
        if g.kind == "kernel" and bp.kernels[g.stage][g.layer] is None:
            continue
        total += float(lp[i])
    return total


def choice_prior(alpha, space: BlueprintSpace, search_space=None):
    """The supernet's belief (``alpha``) over ``space.search_space()``'s variables, as a
    ``boed_nas.spaces.prior.ChoicePrior``: its ``most_probable(k)`` configurations are ``boed``'s
    proposals and its log-probability a signal at initialisation (``**prior.boed_kwargs()``).

    Per stage, ``s.width`` and ``s.l0.kernel`` take their group's log-probabilities; an optional
    block ``s.l{l}`` is bypassed (``"-"``) with its gate's bypass probability and kept with kernel
    ``k`` with P(keep) x P(kernel k), so log P(config) is ``blueprint_log_prob`` of its blueprint.
    ``search_space``: the ``Space`` to put it on (default: a new ``space.search_space()``).
    """
    from ..spaces.prior import ChoicePrior

    search_space = space.search_space() if search_space is None else search_space
    lp = {g.name: x for g, x in zip(space.groups(), group_log_probs(alpha, space))}
    values = {}
    for s, st in enumerate(space.stages):
        values[f"s{s}.width"] = lp[f"s{s}.width"]
        values[f"s{s}.l0.kernel"] = lp[f"s{s}.l0.kernel"]
        for ell in range(1, st.depth):
            gate, kernel = lp[f"s{s}.l{ell}.gate"], lp[f"s{s}.l{ell}.kernel"]
            by = {BYPASS: gate[GATE_OPTIONS.index("bypass")],
                  **{str(k): gate[GATE_OPTIONS.index("keep")] + kernel[i] for i, k in enumerate(space.kernels)}}
            var = next(v for v in search_space.variables if v.name == f"s{s}.l{ell}")
            values[var.name] = [by[x] for x in var.values]
    return ChoicePrior(search_space, values, kind="log_probs")


def argmax_blueprint(alpha, space: BlueprintSpace) -> Blueprint:
    return space.from_indices([int(np.argmax(lp)) for lp in group_log_probs(alpha, space)])


def exact_cost(bp: Blueprint, space: BlueprintSpace, metric: str) -> float:
    """The cost counted on the built network: FlopCounterMode FLOPs (in M) or parameters (in M)."""
    if metric == "flops_M":
        return network_flops(bp, space) / 1e6
    if metric == "params_M":
        return count_params(BlueprintNetwork(bp, space)) / 1e6
    raise ConfigError(f"a hard budget needs an exactly counted metric, one of {list(EXACT_METRICS)}; got {metric!r}")


def check_feasible(costs: BlueprintCosts, budget: float, metric: str = "flops_M") -> None:
    if metric not in EXACT_METRICS:
        raise ConfigError(f"a hard budget needs an exactly counted metric, one of {list(EXACT_METRICS)}; got {metric!r}")
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not np.isfinite(budget) or budget <= 0:
        raise ConfigError(f"budget must be a positive number ({metric}), got {budget!r}")
    lo, hi = costs.range(metric)
    if not fits(lo, budget):
        raise ConfigError(f"budget {budget} {metric} is below the cheapest blueprint of the space "
                         f"({costs.space.smallest()}: {lo:.6g} {metric}); nothing can meet it")


def derive(alpha, space: BlueprintSpace, costs: BlueprintCosts, budget: float | None = None,
           metric: str = "flops_M") -> tuple[Blueprint, dict]:
    """(derived blueprint, report). With a budget the derived blueprint's counted cost is <= budget."""
    logp = group_log_probs(alpha, space)
    groups = space.groups()
    idx = [int(np.argmax(lp)) for lp in logp]
    argmax = space.from_indices(idx)
    report = {"argmax_blueprint": str(argmax), "metric": metric, "budget": budget,
              "argmax_cost": costs.of(argmax, metric) if metric in costs.metrics else None,
              "argmax_log_prob": blueprint_log_prob(logp, space, argmax), "repaired": False, "repair_steps": []}
    bp = argmax
    if budget is not None:
        check_feasible(costs, budget, metric)
        cost = costs.of(bp, metric)
        while not fits(cost, budget):
            lp_now = blueprint_log_prob(logp, space, bp)
            moves = []
            for gi, g in enumerate(groups):
                if g.kind == "kernel" and bp.kernels[g.stage][g.layer] is None:
                    continue
                for i in range(len(g.options)):
                    if i == idx[gi]:
                        continue
                    new = list(idx)
                    new[gi] = i
                    nb = space.from_indices(new)
                    c = costs.of(nb, metric)
                    if c < cost - 1e-15:
                        lost = lp_now - blueprint_log_prob(logp, space, nb)
                        moves.append((gi, i, nb, c, lost))
            if not moves:  # cannot happen for a feasible budget (see the module docstring)
                raise RuntimeError(f"repair stuck at {bp} ({cost} {metric} > {budget})")
            fitting = [m for m in moves if fits(m[3], budget)]
            if fitting:
                gi, i, nb, c, lost = min(fitting, key=lambda m: (m[4], -m[3], m[0], m[1]))
            else:
                gi, i, nb, c, lost = max(moves, key=lambda m: ((cost - m[3]) / max(m[4], _EPS), -m[0], -m[1]))
            g = groups[gi]
            report["repair_steps"].append({"choice": g.name, "from": _opt(g.options[idx[gi]]), "to": _opt(g.options[i]),
                                           "cost_after": c, "cost_saved": cost - c, "log_prob_lost": lost})
            idx[gi] = i
            bp, cost = nb, c
        report["repaired"] = bool(report["repair_steps"])
        counted = exact_cost(bp, space, metric)
        if abs(counted - cost) > 1e-9 * max(1.0, abs(cost)):
            raise RuntimeError(f"cost table ({cost}) and counted network ({counted}) disagree for {bp}")
        report["counted_cost"] = counted
        report["within_budget"] = fits(counted, budget)
    report["derived_blueprint"] = str(bp)
    report["derived_cost"] = costs.of(bp, metric) if metric in costs.metrics else None
    report["derived_log_prob"] = blueprint_log_prob(logp, space, bp)
    return bp, report


def _opt(o):
    return o if isinstance(o, str) else int(o)


def baseline_blueprint(space: BlueprintSpace, costs: BlueprintCosts, budget: float,
                       metric: str = "flops_M") -> Blueprint:
    """A hand-made network of similar cost: the costliest one within ``budget`` of a uniform family.

    The family is the usual hand design: one kernel size everywhere (3x3, else the smallest kernel
    above it, else the largest), the same width index in every stage (widths grow with the stages
    as the space's candidates do), and the same number of kept blocks in every stage. If none of
    them fits, smaller uniform kernels are tried. ConfigError if nothing of the family fits.
    """
    check_feasible(costs, budget, metric)
    ks = sorted(space.kernels)
    first = min((k for k in ks if k >= 3), default=max(ks))
    order = [first] + sorted((k for k in ks if k < first), reverse=True)
    max_w = max(len(st.widths) for st in space.stages)
    max_d = max(st.depth for st in space.stages)
    for k in order:
        best, best_cost = None, -1.0
        for wi in range(max_w):
            for d in range(max_d):
                bp = Blueprint(tuple(st.widths[min(wi, len(st.widths) - 1)] for st in space.stages),
                               tuple((k,) + tuple(k if j <= d else None for j in range(1, st.depth)) for st in space.stages))
                c = costs.of(bp, metric)
                if fits(c, budget) and c > best_cost:
                    best, best_cost = bp, c
        if best is not None:
            return best
    raise ConfigError(f"no uniform hand-made blueprint fits the budget {budget} {metric}")
