"""Whole-network blueprint search: kernel sizes, depth and width under a FLOPs or latency budget.

Quick use::

    from boed_nas.blueprint import BlueprintConfig, run_blueprint
    summary = run_blueprint(BlueprintConfig(budget=1.0, epochs=8, seed=0), out="runs/blueprint")
    summary["derived_blueprint"], summary["derived"]["flops_M"], summary["derived"]["test_acc"]

Modules: ``space`` (macro space, blueprints, choice groups), ``network`` (discrete network, supernet
with kernel branches, width adapters and depth gates), ``cost`` (exact per-candidate FLOPs/params by
FlopCounterMode, latency lookup table, expected cost), ``search`` (config, penalties, the bilevel
loop on the supernet ``Architect``), ``discretise`` (derivation with the hard-budget repair, the
hand-made baseline), ``train`` (retraining from scratch), ``result`` (a search's outcome), ``pipeline``
(search, derive, retrain; files; lambda sweep). The command is ``boed-nas blueprint`` (``boed_nas.cli.blueprint``).
"""

from .cost import (
    BlueprintCosts,
    count_flops,
    count_params,
    load_latency_table,
    measure_latency_table,
    measure_network_latency,
    network_flops,
    network_params,
)
from .discretise import (
    argmax_blueprint,
    baseline_blueprint,
    blueprint_log_prob,
    check_feasible,
    choice_prior,
    derive,
)
from .network import (
    BlueprintNetwork,
    BlueprintSupernet,
    GatedBlock,
    ResidualBlock,
    group_mixing,
    group_probs,
)
from .pipeline import run_blueprint, run_lambda_sweep
from .result import BlueprintSearchResult
from .search import (
    BlueprintConfig,
    BlueprintPenalties,
    evaluate_supernet,
    search_blueprint,
    space_costs,
)
from .space import (
    Blueprint,
    BlueprintSpace,
    ChoiceGroup,
    StageSpec,
    parse_kernels,
    parse_stages,
)
from .train import train_blueprint

__all__ = ["Blueprint", "BlueprintConfig", "BlueprintCosts", "BlueprintNetwork", "BlueprintPenalties",
           "BlueprintSearchResult", "BlueprintSpace", "BlueprintSupernet", "ChoiceGroup", "GatedBlock",
           "ResidualBlock", "StageSpec", "argmax_blueprint", "baseline_blueprint", "blueprint_log_prob",
           "check_feasible", "choice_prior", "count_flops", "count_params", "derive", "evaluate_supernet", "group_mixing",
           "group_probs", "load_latency_table", "measure_latency_table", "measure_network_latency", "network_flops",
           "network_params", "parse_kernels", "parse_stages", "run_blueprint",
           "run_lambda_sweep", "search_blueprint", "space_costs", "train_blueprint"]
