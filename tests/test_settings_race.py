"""tools/settings_race.py: every setting's copy can still be made from the committed notebooks."""
import pytest

import settings_race


@pytest.mark.parametrize("model", settings_race.ALL)
def test_every_copy_differs_from_its_notebook_in_its_setting_alone(model, tmp_path):
    chosen = settings_race.configurations(model, tmp_path)
    settings = [s for s in settings_race.SETTINGS if model in s[2]]
    committed, copies = chosen[:len({s[1] for s in settings})], chosen[len({s[1] for s in settings}):]
    assert [c[0] for c in committed] == list(dict.fromkeys(s[1] for s in settings))
    assert [c[0] for c in copies] == [s[0] for s in settings_race.SETTINGS if model in s[2]]
    for label, notebook, backend, *env in copies:
        base = next(c for c in committed if c[0] == next(s[1] for s in settings_race.SETTINGS if s[0] == label))
        assert backend == base[2] and notebook.name == base[1].name, label
        if env:
            assert notebook == base[1] and env[0], label  # the same notebook, another environment
        else:
            assert notebook.read_text(encoding="utf-8") != base[1].read_text(encoding="utf-8"), label


def test_a_change_that_no_longer_applies_is_refused(tmp_path):
    notebook = settings_race.ROOT / "pytorch" / "01-mnist-fcn.ipynb"
    with pytest.raises(ValueError, match="no single cell"):
        settings_race.changed(notebook, [("def build_optimizer", "a text that is not there", "")], tmp_path)
