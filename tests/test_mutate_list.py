"""tools/mutate.py stays true as code moves: every mutant's old text is in src exactly once.

The mutation run itself takes minutes and is not part of the suite (python tools/mutate.py).
"""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load():
    spec = importlib.util.spec_from_file_location("mutate", ROOT / "tools" / "mutate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_mutant_old_text_is_present_once():
    mutate = _load()
    assert len(mutate.MUTANTS) >= 7
    assert mutate.check_old_texts(ROOT) == []
    for m in mutate.MUTANTS:
        assert m.old != m.new and m.file.startswith("src/genmod/") and m.tests, m.name


def test_the_check_flags_a_stale_mutant(tmp_path):
    mutate = _load()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\nx = 1\n")
    stale = [
        mutate.Mutant("gone", "src/a.py", "y = 2", "y = 3", ("tests/none.py",)),
        mutate.Mutant("twice", "src/a.py", "x = 1", "x = 2", ()),
    ]
    problems = mutate.check_old_texts(tmp_path, stale)
    assert any("gone: old text found 0 times" in p for p in problems)
    assert any("twice: old text found 2 times" in p for p in problems)
    assert any("test file of tests/none.py not found" in p for p in problems)
