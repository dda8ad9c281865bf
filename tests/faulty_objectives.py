"""Objectives that misbehave as users' objectives do, on ``tests.spaces.user_objective:SPACE``
(module-level, so worker processes and Dask workers can import them)."""

import os
import time

from tests.spaces.user_objective import score


def hangs_at_depth_2(c):
    """Hangs (ten minutes) on every configuration of depth 2."""
    if c["depth"] == 2:
        time.sleep(600)
    return {"val_acc": score(c)}


def exits_at_depth_3(c):
    """Kills its own process (exit code 9) on every configuration of depth 3."""
    if c["depth"] == 3:
        os._exit(9)
    time.sleep(0.05)
    return {"val_acc": score(c)}
