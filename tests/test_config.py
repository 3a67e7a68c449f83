"""Settings declarations: README table, limits, suggestions, the kernels' view, and the README's Python API."""

import re
from pathlib import Path

import pytest

from neuroevo.choices import CursorSource, Selection
from neuroevo.config import CHOICES, SECTIONS, Params, Settings, SettingsError, make_params, override
from neuroevo.settings_table import settings_table

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_settings_table_is_generated_from_the_declarations():
    stale = "README's settings table is stale: paste the output of `python -m neuroevo.settings_table` into it"
    assert settings_table() in README, stale


@pytest.mark.parametrize("kv,msg", [
    ({"sigmaa": 0.1}, "did you mean 'sigma'"),
    ({"selection": "tournamnet"}, "did you mean 'tournament'"),
    ({"evolution.sigma": "nan"}, "must be finite"),
    ({"hidden": "1000000"}, "brain.hidden"),
    ({"sensors": ""}, "at least one sensor"),
    ({"width": 5}, "must be at least 100"),
    ({"reaction_s": 1e308}, "must be at most"),
    ({"hof_size": 1e9}, "must be at most"),
    ({"agents": 10**7}, "must be at most"),
    ({"tournament_k": 1e20}, "must be at most"),
    ({"dt": 1e-300}, "must be at least"),
    ({"icons": 2_000_000}, "must be at most"),
    ({"agents": "3.5"}, "expected int"),
])
def test_bad_values_are_refused_with_one_clear_line(kv, msg):
    with pytest.raises(SettingsError) as e:
        override(Settings(), kv)
    assert msg in str(e.value) and "\n" not in str(e.value)


def test_every_setting_converts_from_the_command_line_strings():
    s = override(Settings(), {"hidden": "16x8", "sensors": "edges,icons", "agents": "200", "sigma": "0.05",
                              "mode": "generational", "world.dt": "0.02"})
    assert s.brain.hidden == (16, 8) and s.brain.sensors == ("edges", "icons") and s.world.agents == 200
    assert s.evolution.sigma == 0.05 and s.world.dt == 0.02
    assert Settings.from_dict(s.to_dict()) == s


def test_params_are_derived_from_the_declarations():
    s = override(Settings(), {"cursor.source": "hunter", "selection": "tournament", "reaction_s": 0.5})
    p = make_params(s)
    assert p.cursor_source == CursorSource.HUNTER and p.selection == Selection.TOURNAMENT
    assert p.reaction_steps == 30 and p.hunter_speed == s.cursor.speed and p.n_in == 10
    for key, names in CHOICES.items():  # the enums and the accepted strings line up
        section, name = key.split(".")
        assert names[0] == getattr(SECTIONS[section](), name) or names.index(getattr(SECTIONS[section](), name)) >= 0
    assert len(Params._fields) == len(set(Params._fields))


def test_readme_python_api_runs(capsys):
    """The code blocks of the README's Python API section run as written."""
    section = README[README.index("## Python API"): README.index("## License")]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 3
    scope: dict = {}
    for code in blocks:
        exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the project's own README
    out = capsys.readouterr().out
    assert "'edge'" in out and "oldest" in out


def test_every_module_with_compiled_kernels_keys_the_kernel_cache():
    import neuroevo

    root = Path(neuroevo.__file__).parent
    with_numba = {str(f.relative_to(root)) for f in root.rglob("*.py") if "numba" in f.read_text()
                  and "njit" in f.read_text()}
    assert with_numba <= set(neuroevo.KERNEL_SOURCES), with_numba - set(neuroevo.KERNEL_SOURCES)
