import signal

import numpy as np
import pytest

from neuroevo.config import Settings, make_params, override

# Started in the background by a non-interactive shell (`pytest &`), the tests get SIGINT ignored, and the programs
# they start inherit that: the Ctrl-C tests would see no Ctrl-C at all. Python's own handler here gives them what a
# terminal gives (a handler, unlike an ignored signal, is reset to the default in the programs started).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def params():
    return make_params(Settings())


def small_settings(**kv):
    return override(Settings(), {"world.agents": 20, **kv})


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
