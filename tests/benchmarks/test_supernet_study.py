"""The supernet study's helpers (the studies themselves run in benchmarks/supernet_study.py)."""

import numpy as np

from benchmarks.supernet_study import pareto_front


def test_pareto_front_keeps_exactly_the_non_dominated_points():
    lat = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 0.5])
    acc = np.array([50.0, 60.0, 55.0, 58.0, 70.0, 40.0])
    front = pareto_front(lat, acc)
    assert list(front) == [5, 0, 1, 4]
    for i in range(len(lat)):
        dominated = any((lat[j] <= lat[i]) and (acc[j] >= acc[i]) and (lat[j] < lat[i] or acc[j] > acc[i])
                        for j in range(len(lat)))
        assert (i in front) != dominated
