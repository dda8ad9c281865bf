import pytest

from tests.supernet.helpers import TINY


@pytest.fixture(scope="package")
def tiny_result():
    """One tiny supernet search (seed 3), shared by the result and search tests."""
    from boed_nas.supernet import SearchConfig, search_supernet

    return search_supernet(SearchConfig(**TINY, seed=3))
