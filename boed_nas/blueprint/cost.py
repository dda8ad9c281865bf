"""Exact per-candidate costs of the blueprint space and the expected cost as a differentiable function.

Every discrete network of the space is a sum of independent parts: the stem, each stage's layer 0
(its cost depends on the previous stage's width, this stage's width and the kernel), each kept
block (this stage's width and the kernel) and the head (the last stage's width). The FLOPs of
every candidate part are counted once with ``torch.utils.flop_counter.FlopCounterMode`` on the
module the discrete network builds (2 FLOPs per multiply-add of convolutions and linear layers;
BN, ReLU, pooling and the residual additions count 0, as in ``tools/measure_flops.py``);
parameters are counted exactly from the same modules. A blueprint's cost is the sum of its parts'
counts, which equals a FlopCounterMode count of its whole network (a test checks this).

Under the search's independent choices the expected cost is exact and differentiable::

    E[C] = stem + sum_s sum_{a,b,k} p_w[s-1][a] p_w[s][b] p_k[s,0][k] C0_s[a,b,k]
                + sum_{s, l>=1} P(keep_{s,l}) sum_{b,k} p_w[s][b] p_k[s,l][k] C_s[b,k]
                + sum_b p_w[S-1][b] head[b]

and equals the counted cost when every choice is one-hot.

Latency (optional): a lookup table of each candidate part timed in isolation on this machine
(``torch.utils.benchmark.Timer``, median and interquartile range over repeated blocks), see
:func:`measure_latency_table` and ``tools/measure_blueprint_latency.py``. A
blueprint's predicted latency is the sum of its parts' medians (additive model; its error against
whole-network timings is what that script reports).
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..errors import ConfigError
from .network import BlueprintNetwork, Head, ResidualBlock, make_layer, make_stem
from .space import Blueprint, BlueprintSpace

METRICS = {"flops_M": "MFLOPs", "params_M": "M params", "latency": "ms"}
EXACT_METRICS = ("flops_M", "params_M")
"""Metrics counted exactly; only these can carry a hard budget."""


# ------------------------------------------------------------------------------------ counting
def count_flops(module: nn.Module, input_shape: tuple[int, ...]) -> int:
    """FLOPs of one forward pass of ``module`` on zeros of ``input_shape``, by FlopCounterMode."""
    was = module.training
    module.eval()
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            module(torch.zeros(input_shape))
    finally:
        module.train(was)
    return int(counter.get_total_flops())


def count_params(module: nn.Module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def network_input_shape(space: BlueprintSpace, batch: int = 1) -> tuple[int, int, int, int]:
    return (batch, space.in_channels, *space.input_size)


def network_flops(blueprint: Blueprint | str, space: BlueprintSpace) -> int:
    """FLOPs of the whole discrete network (batch 1), counted directly by FlopCounterMode."""
    return count_flops(BlueprintNetwork(blueprint, space), network_input_shape(space))


def network_params(blueprint: Blueprint | str, space: BlueprintSpace) -> int:
    return count_params(BlueprintNetwork(blueprint, space))


@functools.lru_cache(maxsize=4096)
def _layer_counts(c_in: int, c_out: int, kernel: int, stride: int, h: int, w: int) -> tuple[int, int]:
    m = make_layer(c_in, c_out, kernel, stride)
    return count_flops(m, (1, c_in, h, w)), count_params(m)


# ------------------------------------------------------------------------------------ latency table
LATENCY_COLUMNS = ["part", "c_in", "c_out", "kernel", "stride", "h", "w", "batch", "median_ms", "iqr_ms",
                   "runs", "threads"]


def _part_key(part: str, c_in: int, c_out: int, kernel: int, stride: int, h: int, w: int) -> tuple:
    return (part, int(c_in), int(c_out), int(kernel), int(stride), int(h), int(w))


def candidate_parts(space: BlueprintSpace) -> list[tuple]:
    """Every distinct part a network of the space can contain, as ``(part, c_in, c_out, k, stride, h, w)``."""
    keys = [_part_key("stem", space.in_channels, space.stem_channels, 3, 1, *space.input_size)]
    for s, st in enumerate(space.stages):
        h, w = space.stage_input_size(s)
        ho, wo = space.stage_output_size(s)
        for a in space.stage_in_widths(s):
            for b in st.widths:
                for k in space.kernels:
                    keys.append(_part_key("layer", a, b, k, st.stride, h, w))
        if st.depth > 1:
            for b in st.widths:
                for k in space.kernels:
                    keys.append(_part_key("block", b, b, k, 1, ho, wo))
    ho, wo = space.stage_output_size(space.n_stages - 1)
    for b in space.stages[-1].widths:
        keys.append(_part_key("head", b, space.num_classes, 0, 1, ho, wo))
    return list(dict.fromkeys(keys))


def _part_module(key: tuple, space: BlueprintSpace) -> nn.Module:
    part, c_in, c_out, k, stride, _, _ = key
    if part == "stem":
        return make_stem(c_in, c_out)
    if part == "head":
        return Head(c_in, c_out)
    if part == "block":
        return ResidualBlock(make_layer(c_in, c_out, k, stride))  # timed with its residual addition
    return make_layer(c_in, c_out, k, stride)


def time_module(module: nn.Module, input_shape: tuple[int, ...], min_run_time: float = 0.05,
                threads: int = 1) -> tuple[float, float, int]:
    """(median ms, IQR ms, timed runs) of ``module(x)`` in eval mode under no_grad (torch.utils.benchmark)."""
    from torch.utils.benchmark import Timer

    module.eval()
    x = torch.randn(input_shape)
    with torch.no_grad():
        module(x)  # warm-up
        m = Timer("module(x)", globals={"module": module, "x": x}, num_threads=threads).blocked_autorange(
            min_run_time=min_run_time)
    return 1000 * float(m.median), 1000 * float(m.iqr), int(len(m.times) * m.number_per_run)


def measure_latency_table(space: BlueprintSpace, batch: int = 1, min_run_time: float = 0.05, threads: int = 1,
                          progress: bool = False):
    """Time every candidate part in isolation; a DataFrame with :data:`LATENCY_COLUMNS`."""
    from tqdm.auto import tqdm

    rows = []
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            for key in tqdm(candidate_parts(space), desc="latency table", unit="op", disable=not progress):
                part, c_in, c_out, k, stride, h, w = key
                med, iqr, runs = time_module(_part_module(key, space), (batch, c_in, h, w), min_run_time, threads)
                rows.append({"part": part, "c_in": c_in, "c_out": c_out, "kernel": k, "stride": stride, "h": h, "w": w,
                             "batch": batch, "median_ms": med, "iqr_ms": iqr, "runs": runs, "threads": threads})
    finally:
        torch.set_num_threads(old)
    return pd.DataFrame(rows, columns=LATENCY_COLUMNS)


def load_latency_table(path: str | Path):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"latency table {path} does not exist (write one with "
                                f"tools/measure_blueprint_latency.py)")
    df = pd.read_csv(path)
    missing = [c for c in LATENCY_COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(f"latency table {path} lacks columns {missing}; expected {LATENCY_COLUMNS}")
    return df


def measure_network_latency(blueprint: Blueprint | str, space: BlueprintSpace, batch: int = 1,
                            min_run_time: float = 0.2, threads: int = 1) -> dict:
    """Median and IQR (ms) of the whole discrete network's forward pass, timed on this machine."""
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            med, iqr, runs = time_module(BlueprintNetwork(blueprint, space), network_input_shape(space, batch),
                                         min_run_time, threads)
    finally:
        torch.set_num_threads(old)
    return {"latency_ms": med, "latency_iqr_ms": iqr, "latency_runs": runs, "latency_batch": batch,
            "latency_threads": threads}


# ------------------------------------------------------------------------------------ the cost model
@dataclass
class _Tables:
    stem: float
    first: list[np.ndarray]  # per stage (A, B, K)
    block: list[np.ndarray]  # per stage (B, K); zeros if depth 1
    head: np.ndarray  # (B_last,)


class BlueprintCosts:
    """Exact per-candidate cost tables of a space, and expected / discrete costs.

    ``expected(p, metric)``: E[cost] under the flat probability vector ``p`` (differentiable);
    ``of(blueprint, metric)``: the cost of a discrete blueprint. Metrics: ``flops_M`` (MFLOPs),
    ``params_M`` (millions), and ``latency`` (ms) when a latency table is given.
    """

    def __init__(self, space: BlueprintSpace, latency_table=None):
        self.space = space
        self.tables: dict[str, _Tables] = {}
        flops = self._tables_from(lambda key: float(self._counts(key)[0]))
        params = self._tables_from(lambda key: float(self._counts(key)[1]))
        self.tables["flops_M"] = _scale(flops, 1e-6)
        self.tables["params_M"] = _scale(params, 1e-6)
        self._raw = {"flops": flops, "params": params}
        self.latency_table = None
        if latency_table is not None:
            self.set_latency_table(latency_table)

    # -- tables ------------------------------------------------------------------------------
    def _counts(self, key: tuple) -> tuple[int, int]:
        if key[0] in ("layer", "block"):
            return _layer_counts(*key[1:])
        m = _part_module(key, self.space)
        shape = (1, key[1], key[5], key[6])
        return count_flops(m, shape), count_params(m)

    def _tables_from(self, part) -> _Tables:
        sp = self.space
        K = len(sp.kernels)
        first, block = [], []
        for s, st in enumerate(sp.stages):
            h, w = sp.stage_input_size(s)
            ho, wo = sp.stage_output_size(s)
            a_w = sp.stage_in_widths(s)
            t = np.zeros((len(a_w), len(st.widths), K))
            for ia, a in enumerate(a_w):
                for ib, b in enumerate(st.widths):
                    for ik, k in enumerate(sp.kernels):
                        t[ia, ib, ik] = part(_part_key("layer", a, b, k, st.stride, h, w))
            first.append(t)
            tb = np.zeros((len(st.widths), K))
            if st.depth > 1:
                for ib, b in enumerate(st.widths):
                    for ik, k in enumerate(sp.kernels):
                        tb[ib, ik] = part(_part_key("block", b, b, k, 1, ho, wo))
            block.append(tb)
        ho, wo = sp.stage_output_size(sp.n_stages - 1)
        head = np.array([part(_part_key("head", b, sp.num_classes, 0, 1, ho, wo)) for b in sp.stages[-1].widths])
        stem = part(_part_key("stem", sp.in_channels, sp.stem_channels, 3, 1, *sp.input_size))
        return _Tables(stem, first, block, head)

    def set_latency_table(self, table) -> None:
        """Use a latency table (DataFrame or CSV path) measured by :func:`measure_latency_table`."""
        df = table if isinstance(table, pd.DataFrame) else load_latency_table(table)
        lut = {_part_key(r.part, r.c_in, r.c_out, r.kernel, r.stride, r.h, r.w): float(r.median_ms)
               for r in df.itertuples()}

        def part(key):
            if key not in lut:
                raise ConfigError(f"latency table has no entry for {key} (part, c_in, c_out, kernel, stride, h, w); "
                                 f"it was measured for another space: measure it again for this one")
            return lut[key]

        self.tables["latency"] = self._tables_from(part)
        self.latency_table = df

    def with_latency(self, table) -> BlueprintCosts:
        """A copy that also has the ``latency`` metric from ``table`` (this one is left as it is)."""
        new = copy.copy(self)
        new.tables = dict(self.tables)
        new.set_latency_table(table)
        return new

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.tables)

    def _check(self, metric: str) -> _Tables:
        if metric not in self.tables:
            if metric == "latency":
                raise ConfigError("no latency table: measure one (measure_latency_table) or pass latency_table=")
            raise ConfigError(f"unknown cost metric {metric!r}; expected one of {list(METRICS)}")
        return self.tables[metric]

    # -- costs -------------------------------------------------------------------------------
    def expected(self, p: torch.Tensor, metric: str = "flops_M") -> torch.Tensor:
        """E[cost] under the flat probability vector ``p`` (layout of ``space.groups()``); differentiable."""
        t = self._check(metric)
        sp = self.space
        if p.shape != (sp.n_logits,):
            raise ConfigError(f"expected a flat probability vector of {sp.n_logits} entries, got {tuple(p.shape)}")

        def g(kind, s, ell=None):
            return p[sp.group(kind, s, ell).slice]

        def T(a):
            return torch.as_tensor(a, dtype=p.dtype)

        total = p.new_tensor(t.stem)
        prev = p.new_ones(1)
        for s, st in enumerate(sp.stages):
            pw = g("width", s)
            total = total + torch.einsum("a,b,k,abk->", prev, pw, g("kernel", s, 0), T(t.first[s]))
            for ell in range(1, st.depth):
                keep = g("gate", s, ell)[1]
                total = total + keep * torch.einsum("b,k,bk->", pw, g("kernel", s, ell), T(t.block[s]))
            prev = pw
        return total + (prev * T(t.head)).sum()

    def of(self, blueprint: Blueprint | str, metric: str = "flops_M") -> float:
        """The cost of a discrete blueprint (the sum of its parts' table entries)."""
        return float(self.expected(torch.as_tensor(self.space.one_hot(self.space.parse(blueprint)),
                                                   dtype=torch.float64), metric))

    def flops(self, blueprint: Blueprint | str) -> int:
        """Exact integer FLOPs of a blueprint's network from the per-part counts."""
        return int(round(self._int_cost(blueprint, self._raw["flops"])))

    def params(self, blueprint: Blueprint | str) -> int:
        return int(round(self._int_cost(blueprint, self._raw["params"])))

    def _int_cost(self, blueprint, t: _Tables) -> float:
        sp = self.space
        bp = sp.parse(blueprint)
        total = t.stem
        ia = 0
        for s, st in enumerate(sp.stages):
            ib = st.widths.index(bp.widths[s])
            for ell, k in enumerate(bp.kernels[s]):
                if k is None:
                    continue
                ik = sp.kernels.index(k)
                total += t.first[s][ia, ib, ik] if ell == 0 else t.block[s][ib, ik]
            ia = ib
        return total + t.head[ia]

    def range(self, metric: str = "flops_M") -> tuple[float, float]:
        """Cost of the space's smallest and largest blueprints."""
        return self.of(self.space.smallest(), metric), self.of(self.space.largest(), metric)


def _scale(t: _Tables, f: float) -> _Tables:
    return _Tables(t.stem * f, [a * f for a in t.first], [a * f for a in t.block], t.head * f)
