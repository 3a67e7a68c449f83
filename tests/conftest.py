import numpy as np
import pytest

from neuroevo.config import Settings, make_params, override


@pytest.fixture
def params():
    return make_params(Settings())


def small_settings(**kv):
    return override(Settings(), {"world.agents": 20, **kv})


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
