"""The macro (whole-network) search space: stages of layers with kernel, width and depth choices.

A network is a stem (3x3 conv + BN), a stack of stages, then BN-ReLU, global average pooling and a
linear classifier. Stage ``s`` has a set of candidate widths (channel counts), a maximum depth
``D_s`` and a stride. Its layer 0 is mandatory: ReLU-Conv(k x k, stride)-BN from the previous
stage's width to this stage's width. Layers 1..D_s-1 are optional residual blocks
``x + ReLU-Conv(k x k)-BN(x)`` that a blueprint keeps or bypasses. Every layer chooses its kernel
size among the space's kernels (1/3/5/7 by default).

A discrete choice of all this is a :class:`Blueprint`; its string form, one ``width[kernels]`` group
per stage joined by ``|`` with ``-`` for a bypassed block, reads e.g.::

    16[3,5,-]|32[3,-,-]|64[5,3,3]

(stage 0: width 16, a 3x3 layer and a kept 5x5 block, the third block bypassed; ...).

The same choices, relaxed, are the *choice groups* of the differentiable search (see
:meth:`BlueprintSpace.groups`): one categorical group per stage width, one per layer kernel and
one ``(bypass, keep)`` group per optional block (its gate). The search's architecture logits are
one flat vector, the groups' logits concatenated in that order; a blueprint is one option index
per group (:meth:`BlueprintSpace.to_indices` / :meth:`from_indices`).

The interface mirrors the NB201 cell space (``boed_nas.nb201.space``): a blueprint is immutable and
hashable, ``Blueprint.from_str`` / ``BlueprintSpace.parse`` read it (SpaceError quoting the defect),
``str()`` writes it, and the space validates, samples, enumerates neighbours and mutates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import SpaceError
from ..seeding import as_rng

BYPASS = "-"
GATE_OPTIONS = ("bypass", "keep")
DEFAULT_KERNELS = (1, 3, 5)
"""The default kernel sizes; ``(1, 3, 5, 7)`` is a flag away (``--kernels 1,3,5,7``). On the 8x8 digits
of the demo the last stages work at 4x4 and 2x2, where a 7x7 kernel sees only padding beyond 5x5,
and every extra branch makes the supernet slower on a 2-core CPU."""
BLUEPRINT_FORM = "width[k,k|-,...]|width[...]|... e.g. 16[3,5,-]|32[3,-,-]|64[5,3,3]"
_STAGE = re.compile(r"^\s*(\d+)\s*\[([^\[\]]*)\]\s*$")


def _posint(name: str, v, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
        raise SpaceError(f"{name} must be an integer >= {minimum}, got {v!r}")
    return int(v)


# ------------------------------------------------------------------------------------ blueprint
@dataclass(frozen=True, slots=True)
class Blueprint:
    """One discrete network: per stage a width and, per layer, a kernel size or None (bypassed)."""

    widths: tuple[int, ...]
    kernels: tuple[tuple[int | None, ...], ...]

    def __post_init__(self) -> None:
        widths = tuple(self.widths)
        kernels = tuple(tuple(k) for k in self.kernels)
        if not widths:
            raise SpaceError("a blueprint needs at least one stage")
        if len(widths) != len(kernels):
            raise SpaceError(f"a blueprint has one kernel list per stage: {len(widths)} widths but "
                             f"{len(kernels)} kernel lists")
        for s, w in enumerate(widths):
            _posint(f"stage {s} width", w)
        for s, ks in enumerate(kernels):
            if not ks:
                raise SpaceError(f"stage {s} has no layers; every stage has a mandatory layer 0")
            if ks[0] is None:
                raise SpaceError(f"stage {s}: layer 0 is mandatory (it changes width and stride) and cannot "
                                 f"be bypassed, got {BYPASS!r}")
            for ell, k in enumerate(ks):
                if k is not None:
                    _posint(f"stage {s} layer {ell} kernel", k)
        object.__setattr__(self, "widths", tuple(int(w) for w in widths))
        object.__setattr__(self, "kernels", tuple(tuple(None if k is None else int(k) for k in ks) for ks in kernels))

    # ---- string form ---------------------------------------------------------------------------
    def __str__(self) -> str:
        return "|".join(f"{w}[{','.join(BYPASS if k is None else str(k) for k in ks)}]"
                        for w, ks in zip(self.widths, self.kernels))

    def __repr__(self) -> str:
        return f"Blueprint('{self}')"

    @classmethod
    def from_str(cls, text: str) -> Blueprint:
        """Parse the string form (syntax only; :meth:`BlueprintSpace.parse` also checks the space)."""
        if not isinstance(text, str):
            raise SpaceError(f"a blueprint string must be a str, got {type(text).__name__}: {text!r}")
        if not text.strip():
            raise SpaceError(f"empty blueprint string; expected {BLUEPRINT_FORM}")
        widths, kernels = [], []
        for s, part in enumerate(text.split("|")):
            m = _STAGE.match(part)
            if m is None:
                raise SpaceError(f"blueprint {text!r}: stage {s} {part.strip()!r} is malformed; expected "
                                 f"{BLUEPRINT_FORM}")
            ks = []
            for tok in m.group(2).split(","):
                tok = tok.strip()
                if tok == BYPASS:
                    ks.append(None)
                elif tok.isdigit():
                    ks.append(int(tok))
                else:
                    raise SpaceError(f"blueprint {text!r}: stage {s} has layer token {tok!r}; expected a kernel "
                                     f"size (e.g. 3) or {BYPASS!r} for a bypassed block")
            widths.append(int(m.group(1)))
            kernels.append(tuple(ks))
        return cls(tuple(widths), tuple(kernels))

    # ---- views ---------------------------------------------------------------------------------
    @property
    def n_stages(self) -> int:
        return len(self.widths)

    @property
    def depths(self) -> tuple[int, ...]:
        """Layers actually present per stage (mandatory layer + kept blocks)."""
        return tuple(sum(k is not None for k in ks) for ks in self.kernels)

    def kept_kernels(self, stage: int) -> tuple[int, ...]:
        return tuple(k for k in self.kernels[stage] if k is not None)

    def canonical(self) -> Blueprint:
        """Kept blocks moved to the front of each stage: the same network (bypassed blocks are absent)."""
        ks = []
        for s, row in enumerate(self.kernels):
            kept = self.kept_kernels(s)
            ks.append(kept + (None,) * (len(row) - len(kept)))
        return Blueprint(self.widths, tuple(ks))


# ------------------------------------------------------------------------------------ space
@dataclass(frozen=True)
class StageSpec:
    """One stage: candidate widths, maximum depth (layer 0 mandatory, the rest optional), stride."""

    widths: tuple[int, ...]
    depth: int = 3
    stride: int = 1

    def __post_init__(self) -> None:
        widths = tuple(self.widths) if isinstance(self.widths, Sequence) else self.widths
        if not isinstance(widths, tuple) or not widths:
            raise SpaceError(f"a stage needs at least one candidate width, got {self.widths!r}")
        for w in widths:
            _posint("a stage width", w)
        if len(set(widths)) != len(widths):
            raise SpaceError(f"stage widths must be distinct, got {widths!r}")
        _posint("stage depth", self.depth)
        _posint("stage stride", self.stride)
        object.__setattr__(self, "widths", tuple(sorted(int(w) for w in widths)))

    @property
    def common_width(self) -> int:
        """The width every candidate is projected to in the supernet (the largest candidate)."""
        return max(self.widths)


@dataclass(frozen=True)
class ChoiceGroup:
    """One categorical choice of the relaxation: its options and its slice of the flat logits."""

    name: str
    kind: str  # "width" | "kernel" | "gate"
    stage: int
    layer: int | None
    options: tuple
    start: int

    @property
    def stop(self) -> int:
        return self.start + len(self.options)

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)


def parse_stages(text: str) -> tuple[StageSpec, ...]:
    """Stages from ``"w,w,w:depth:stride;..."``, e.g. ``"8,12,16:3:1;16,24,32:3:2"``."""
    if not isinstance(text, str) or not text.strip():
        raise SpaceError(f"expected stages as 'w,w,w:depth:stride;...', got {text!r}")
    out = []
    for s, part in enumerate(text.split(";")):
        fields = part.strip().split(":")
        if len(fields) not in (1, 2, 3):
            raise SpaceError(f"stage {s} {part!r}: expected 'w,w,w:depth:stride'")
        try:
            widths = tuple(int(w) for w in fields[0].split(","))
            depth = int(fields[1]) if len(fields) > 1 else 3
            stride = int(fields[2]) if len(fields) > 2 else 1
        except ValueError:
            raise SpaceError(f"stage {s} {part!r}: widths, depth and stride must be integers "
                             f"('w,w,w:depth:stride')") from None
        out.append(StageSpec(widths, depth, stride))
    return tuple(out)


def parse_kernels(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(k) for k in str(text).split(","))
    except ValueError:
        raise SpaceError(f"expected odd kernel sizes like '1,3,5,7', got {text!r}") from None


DIGITS_STAGES = (StageSpec((8, 16), 3, 1), StageSpec((16, 32), 3, 2), StageSpec((32, 64), 3, 2))
"""The default for 8x8 digits: 8x8, 4x4 and 2x2 feature maps, widths doubling per stage."""


@dataclass(frozen=True)
class BlueprintSpace:
    """The macro search space. ``input_size`` is the image side (or ``(H, W)``)."""

    stages: tuple[StageSpec, ...] = DIGITS_STAGES
    kernels: tuple[int, ...] = DEFAULT_KERNELS
    stem_channels: int = 8
    in_channels: int = 1
    num_classes: int = 10
    input_size: int | tuple[int, int] = 8

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        if not stages or not all(isinstance(s, StageSpec) for s in stages):
            raise SpaceError(f"stages must be a non-empty sequence of StageSpec, got {self.stages!r}")
        kernels = tuple(self.kernels)
        if not kernels:
            raise SpaceError("the space needs at least one kernel size")
        for k in kernels:
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 or k % 2 == 0:
                raise SpaceError(f"kernel sizes must be odd positive integers (same padding), got {k!r} in {kernels}")
        if len(set(kernels)) != len(kernels):
            raise SpaceError(f"kernel sizes must be distinct, got {kernels}")
        for n in ("stem_channels", "in_channels", "num_classes"):
            _posint(n, getattr(self, n))
        size = self.input_size
        hw = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
        if len(hw) != 2:
            raise SpaceError(f"input_size must be an int or (H, W), got {size!r}")
        for v in hw:
            _posint("input size", v)
        object.__setattr__(self, "stages", stages)
        object.__setattr__(self, "kernels", tuple(sorted(int(k) for k in kernels)))
        object.__setattr__(self, "input_size", (int(hw[0]), int(hw[1])))
        # groups are derived data; computed once
        groups, start = [], 0
        for s, st in enumerate(stages):
            groups.append(ChoiceGroup(f"s{s}.width", "width", s, None, st.widths, start))
            start += len(st.widths)
            for ell in range(st.depth):
                groups.append(ChoiceGroup(f"s{s}.l{ell}.kernel", "kernel", s, ell, self.kernels, start))
                start += len(self.kernels)
                if ell > 0:
                    groups.append(ChoiceGroup(f"s{s}.l{ell}.gate", "gate", s, ell, GATE_OPTIONS, start))
                    start += len(GATE_OPTIONS)
        object.__setattr__(self, "_groups", tuple(groups))
        object.__setattr__(self, "_n_logits", start)

    # ---- geometry --------------------------------------------------------------------------
    @property
    def n_stages(self) -> int:
        return len(self.stages)

    def stage_input_size(self, stage: int) -> tuple[int, int]:
        """Spatial size entering stage ``stage`` (before its stride)."""
        h, w = self.input_size
        for st in self.stages[:stage]:
            h, w = _strided(h, st.stride), _strided(w, st.stride)
        return h, w

    def stage_output_size(self, stage: int) -> tuple[int, int]:
        h, w = self.stage_input_size(stage)
        st = self.stages[stage]
        return _strided(h, st.stride), _strided(w, st.stride)

    def stage_in_widths(self, stage: int) -> tuple[int, ...]:
        """Candidate widths entering stage ``stage``: the previous stage's, or the stem's."""
        return (self.stem_channels,) if stage == 0 else self.stages[stage - 1].widths

    # ---- relaxation layout -----------------------------------------------------------------
    def groups(self) -> tuple[ChoiceGroup, ...]:
        return self._groups  # type: ignore[attr-defined]

    @property
    def n_logits(self) -> int:
        return self._n_logits  # type: ignore[attr-defined]

    def group(self, kind: str, stage: int, layer: int | None = None) -> ChoiceGroup:
        for g in self.groups():
            if g.kind == kind and g.stage == stage and g.layer == layer:
                return g
        raise SpaceError(f"no {kind} group at stage {stage} layer {layer} in this space")

    # ---- blueprints ------------------------------------------------------------------------
    def validate(self, bp: Blueprint) -> Blueprint:
        """``bp`` if it belongs to this space; SpaceError naming the first mismatch otherwise."""
        if not isinstance(bp, Blueprint):
            raise SpaceError(f"expected a Blueprint, got {type(bp).__name__}: {bp!r}")
        if bp.n_stages != self.n_stages:
            raise SpaceError(f"blueprint {bp} has {bp.n_stages} stages, the space has {self.n_stages}")
        for s, (st, w, ks) in enumerate(zip(self.stages, bp.widths, bp.kernels)):
            if w not in st.widths:
                raise SpaceError(f"blueprint {bp}: stage {s} width {w} is not a candidate; expected one of "
                                 f"{list(st.widths)}")
            if len(ks) != st.depth:
                raise SpaceError(f"blueprint {bp}: stage {s} lists {len(ks)} layers, the space has depth "
                                 f"{st.depth} (write {BYPASS!r} for a bypassed block)")
            for ell, k in enumerate(ks):
                if k is not None and k not in self.kernels:
                    raise SpaceError(f"blueprint {bp}: stage {s} layer {ell} kernel {k} is not a candidate; "
                                     f"expected one of {list(self.kernels)}")
        return bp

    def parse(self, value: Blueprint | str | Sequence[int]) -> Blueprint:
        """A Blueprint, its string form, or one option index per group; validated against the space."""
        if isinstance(value, Blueprint):
            return self.validate(value)
        if isinstance(value, str):
            return self.validate(Blueprint.from_str(value))
        if isinstance(value, (Sequence, np.ndarray)):
            return self.from_indices(value)
        raise SpaceError(f"cannot read a blueprint from {value!r}; expected {BLUEPRINT_FORM} or "
                         f"{len(self.groups())} option indices")

    def to_indices(self, bp: Blueprint) -> tuple[int, ...]:
        """One option index per group. A bypassed block's kernel index is 0 (it does not matter)."""
        bp = self.validate(bp)
        out = []
        for g in self.groups():
            if g.kind == "width":
                out.append(g.options.index(bp.widths[g.stage]))
            elif g.kind == "kernel":
                k = bp.kernels[g.stage][g.layer]
                out.append(0 if k is None else g.options.index(k))
            else:
                out.append(int(bp.kernels[g.stage][g.layer] is not None))
        return tuple(out)

    def from_indices(self, indices: Sequence[int]) -> Blueprint:
        groups = self.groups()
        idx = [int(i) for i in indices]
        if len(idx) != len(groups):
            raise SpaceError(f"expected {len(groups)} option indices (one per choice group), got {len(idx)}")
        for g, i in zip(groups, idx):
            if not 0 <= i < len(g.options):
                raise SpaceError(f"option index {i} of group {g.name} is not in 0..{len(g.options) - 1}")
        choice = {g.name: g.options[i] for g, i in zip(groups, idx)}
        widths, kernels = [], []
        for s, st in enumerate(self.stages):
            widths.append(choice[f"s{s}.width"])
            row = []
            for ell in range(st.depth):
                keep = ell == 0 or choice[f"s{s}.l{ell}.gate"] == "keep"
                row.append(choice[f"s{s}.l{ell}.kernel"] if keep else None)
            kernels.append(tuple(row))
        return Blueprint(tuple(widths), tuple(kernels))

    def one_hot(self, bp: Blueprint) -> np.ndarray:
        """The flat probability vector (groups concatenated) that puts all mass on ``bp``."""
        p = np.zeros(self.n_logits)
        for g, i in zip(self.groups(), self.to_indices(bp)):
            p[g.start + i] = 1.0
        return p

    def size(self) -> int:
        """Number of distinct blueprints (bypassed blocks carry no kernel)."""
        n = 1
        for st in self.stages:
            per_block = 1 + len(self.kernels)  # bypassed, or kept with a kernel
            n *= len(st.widths) * len(self.kernels) * per_block ** (st.depth - 1)
        return n

    def sample(self, rng=None) -> Blueprint:
        """A blueprint with every choice drawn uniformly (each group independently)."""
        rng = as_rng(rng)
        return self.from_indices([int(rng.integers(len(g.options))) for g in self.groups()])

    def smallest(self) -> Blueprint:
        """Narrowest widths, smallest kernels, no optional block: the cheapest blueprint."""
        k = min(self.kernels)
        return Blueprint(tuple(st.widths[0] for st in self.stages),
                         tuple((k,) + (None,) * (st.depth - 1) for st in self.stages))

    def largest(self) -> Blueprint:
        k = max(self.kernels)
        return Blueprint(tuple(st.widths[-1] for st in self.stages), tuple((k,) * st.depth for st in self.stages))

    def neighbours(self, bp: Blueprint) -> list[Blueprint]:
        """Blueprints differing in one choice: a stage width, a kept layer's kernel, or one optional block
        (bypassed <-> kept; a block that is switched on may take any kernel)."""
        bp = self.validate(bp)
        out: list[Blueprint] = []
        for s, st in enumerate(self.stages):
            for w in st.widths:
                if w != bp.widths[s]:
                    out.append(Blueprint(bp.widths[:s] + (w,) + bp.widths[s + 1:], bp.kernels))
            for ell in range(st.depth):
                now = bp.kernels[s][ell]
                states = list(self.kernels) + ([None] if ell > 0 else [])
                for k in states:
                    if k != now:
                        row = bp.kernels[s][:ell] + (k,) + bp.kernels[s][ell + 1:]
                        out.append(Blueprint(bp.widths, bp.kernels[:s] + (row,) + bp.kernels[s + 1:]))
        return out

    def mutate(self, bp: Blueprint, rng=None) -> Blueprint:
        """One uniformly random neighbour."""
        rng = as_rng(rng)
        nbs = self.neighbours(bp)
        return nbs[int(rng.integers(len(nbs)))]

    def search_space(self, flops: bool = True):
        """This macro space as a ``boed_nas.spaces.Space`` (what ``boed``, the baselines and
        ``run_objective`` search): per stage an ordered ``s{s}.width`` and ``s{s}.l0.kernel``, and per
        optional block a categorical ``s{s}.l{l}`` of ``"-"`` (bypassed) or a kernel size (as
        strings: one value type per variable, as Ax's choice parameters need); with
        ``flops``, the network's FLOPs as a known cost. ``blueprint_of(config)`` maps back."""
        from ..spaces.base import Categorical, Ordered, Space

        variables = []
        for s, st in enumerate(self.stages):
            variables.append(Ordered(f"s{s}.width", list(st.widths)))
            variables.append(Ordered(f"s{s}.l0.kernel", list(self.kernels)))
            variables += [Categorical(f"s{s}.l{ell}", [BYPASS, *map(str, self.kernels)]) for ell in range(1, st.depth)]

        def costs(config) -> dict[str, float]:
            from .cost import network_flops

            return {"flops": float(network_flops(self.blueprint_of(config), self))}

        return Space(variables, costs=costs if flops else None, name="blueprint")

    def blueprint_of(self, config) -> Blueprint:
        """The blueprint of a configuration of ``search_space()``."""
        widths, kernels = [], []
        for s, st in enumerate(self.stages):
            widths.append(int(config[f"s{s}.width"]))
            row = [int(config[f"s{s}.l0.kernel"])]
            row += [None if config[f"s{s}.l{ell}"] == BYPASS else int(config[f"s{s}.l{ell}"]) for ell in range(1, st.depth)]
            kernels.append(tuple(row))
        return self.validate(Blueprint(tuple(widths), tuple(kernels)))

    def describe(self) -> str:
        lines = [f"stem {self.in_channels}->{self.stem_channels} (3x3), input {self.input_size[0]}x{self.input_size[1]}, "
                 f"kernels {list(self.kernels)}"]
        for s, st in enumerate(self.stages):
            h, w = self.stage_output_size(s)
            lines.append(f"stage {s}: widths {list(st.widths)}, depth <= {st.depth} (layer 0 + {st.depth - 1} "
                         f"gated blocks), stride {st.stride}, {h}x{w}")
        lines.append(f"{self.size():,} blueprints; {len(self.groups())} choice groups, {self.n_logits} logits")
        return "\n".join(lines)


def _strided(n: int, stride: int) -> int:
    # conv with padding k // 2 (odd k) and stride s: floor((n - 1) / s) + 1
    return (n - 1) // stride + 1
