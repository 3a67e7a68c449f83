"""Refactors keep behaviour to the bit: short runs of every shipped scenario (and variants reaching generational
mode, crossover, the hall of fame and every selection method) hash as they did when tests/golden.json was written.
A hash that changes means the simulation changed: if that is meant (a bug fix), say why and rewrite the file with
`python tests/golden.py --write`."""

import json

import pytest
from golden import CASES, GOLDEN, replay_hash, run_hashes

WANT = json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("name", sorted(CASES))
def test_run_hashes_unchanged(name):
    assert run_hashes(name, CASES[name]) == WANT[name]


def test_recorded_replay_unchanged():
    assert replay_hash() == WANT["replay-cursor"]
