"""The notebooks under another CPU's instruction set (see cross_machine.py).

CI checks that the committed pass (tests/cross_machine_record.json) was made on the files it
tests; ``GENMOD_CROSS_MACHINE=1`` runs the 11-13 minute pass itself.
"""

import json
import os

import cross_machine  # tests/ is on sys.path (pytest rootdir-relative import)
import pytest


def test_the_committed_cross_machine_pass_is_for_these_files():
    assert cross_machine.RECORD.exists(), "no record: run python tests/cross_machine.py isa"
    record = json.loads(cross_machine.RECORD.read_text())
    assert record["perturbation"] == "isa" and record["env"] == cross_machine.PERTURBATIONS["isa"]
    assert "passed" in record["result"] and "failed" not in record["result"], record["result"]
    stale = cross_machine.stale_inputs(record)
    assert not stale, (
        f"{len(stale)} file(s) changed since the last pass under another instruction set "
        f"({record['date']}): {', '.join(stale[:10])}. Run `python tests/cross_machine.py isa` "
        "(11-13 minutes; it rewrites tests/cross_machine_record.json on success) and commit"
        " the record. If you only opened and saved notebooks, `git checkout notebooks/`"
        " restores the committed ones."
    )


def test_a_change_to_any_input_makes_the_record_stale(tmp_path):
    for rel in ("notebooks/a.ipynb", "src/genmod/b.py", "benchmarks/results.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    record = {"inputs": cross_machine.fingerprint(tmp_path)}
    assert len(record["inputs"]) == 3 and not cross_machine.stale_inputs(record, tmp_path)
    (tmp_path / "src/genmod/b.py").write_bytes(b"{}\r\n")  # a CRLF checkout of "{}\n"
    record = {"inputs": cross_machine.fingerprint(tmp_path)}
    (tmp_path / "src/genmod/b.py").write_bytes(b"{}\n")
    assert not cross_machine.stale_inputs(record, tmp_path)
    (tmp_path / "src/genmod/b.py").write_text("x = 1\n")
    (tmp_path / "src/genmod/c.py").write_text("")
    (tmp_path / "notebooks/a.ipynb").unlink()
    assert cross_machine.stale_inputs(record, tmp_path) == [
        "notebooks/a.ipynb", "src/genmod/b.py", "src/genmod/c.py",
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("GENMOD_CROSS_MACHINE") != "1",
    reason="11-13 minute pass, run by hand (GENMOD_CROSS_MACHINE=1); CI checks its record instead",
)
def test_notebooks_with_another_instruction_set():
    cross_machine.run_notebooks("isa")
