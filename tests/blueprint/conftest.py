import pytest


@pytest.fixture(scope="package")
def tiny_costs():
    """Exact costs of the tiny space, shared by the cost, discretise, search and pipeline tests."""
    from boed_nas.blueprint import BlueprintCosts
    from tests.blueprint.helpers import TINY_SPACE

    return BlueprintCosts(TINY_SPACE)
