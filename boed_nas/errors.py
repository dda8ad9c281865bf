"""The errors boed-nas raises for bad input, one hierarchy a user can catch by kind.

Every error here is a ``ValueError`` (through :class:`BoedNasError`), so code that catches
``ValueError`` keeps working; catch a subclass to tell the kinds apart::

    try:
        strategy.tell(cell, outcome)
    except DuplicateTellError:
        ...                       # told before: nothing was recorded
    except OutcomeError as e:
        ...                       # NaN, a string, the search metric missing: nothing was recorded

Messages name the bad value and what was expected. Errors that mean a bug in boed-nas itself stay
``RuntimeError``.
"""

from __future__ import annotations


class BoedNasError(ValueError):
    """Base of every error boed-nas raises for bad input."""


class SpaceError(BoedNasError):
    """A cell, op, arch string or configuration that is not in the search space, or a malformed space."""


class UnknownDatasetError(BoedNasError):
    """A dataset name the benchmark does not have."""


class UnknownStrategyError(BoedNasError):
    """A strategy name no registered strategy has."""


class OutcomeError(BoedNasError):
    """An evaluation result that cannot be told: a non-finite or non-numeric metric, the search
    metric missing, a negative cost."""


class NonFiniteMetricError(OutcomeError):
    """A metric that is NaN or infinite: the search loop tells such an evaluation as failed (with
    this reason) instead of stopping; ``Strategy.tell`` refuses it."""


class ObjectiveError(BoedNasError):
    """The objective, not one evaluation, is at fault: it returned something that is not a result,
    or every evaluation so far failed. The search stops (the CLI exits with code 3); what was
    told is saved, and a resume after the fix continues."""


class FolderInUseError(BoedNasError):
    """A run folder that another live process is running (its lock is held): one writer per folder."""


class DuplicateTellError(BoedNasError):
    """A cell (or one isomorphic to it) was told twice."""


class StateError(BoedNasError):
    """A saved state that cannot be read or does not fit the strategy."""


class ConfigError(BoedNasError):
    """A setting, argument or input file that does not fit: out of range, of the wrong type,
    unknown, or inconsistent with another."""


class ClusterError(ConnectionError):
    """The evaluation cluster is gone: no Dask worker for longer than the engine waits, or the
    scheduler lost. Not bad input (an ``OSError``, not a ``BoedNasError``): what was told is
    saved, and the run resumes once the cluster is back (the CLI exits with code 4)."""


def check_int(name: str, value: object, minimum: int) -> int:
    """``value`` as an int if it is an integer (not a bool) >= ``minimum``, else ``ConfigError`` naming it."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


__all__ = ["check_int", "BoedNasError", "ClusterError", "ConfigError", "DuplicateTellError", "FolderInUseError", "NonFiniteMetricError", "ObjectiveError",
           "OutcomeError", "SpaceError", "StateError", "UnknownDatasetError", "UnknownStrategyError"]
