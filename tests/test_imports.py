"""The package's import graph has no cycle (module-level or inside functions)."""

import ast
from pathlib import Path

import genmod

SRC = Path(genmod.__file__).resolve().parent


def _imports(path: Path, src: Path) -> set[str]:
    """genmod modules that ``path`` imports anywhere (``from genmod import x`` counts x)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("genmod.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "genmod":
                out |= {f"genmod.{a.name}" for a in node.names if (src / f"{a.name}.py").exists()}
            elif node.module.startswith("genmod."):
                out.add(node.module)
    return out


def graph(src: Path = SRC) -> dict[str, set[str]]:
    """Module name -> genmod modules it imports (the package's __init__ left out)."""
    return {f"genmod.{p.stem}": _imports(p, src) for p in src.glob("*.py") if p.stem != "__init__"}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first search, each as a list of modules."""
    found, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(g.get(node, ())):
            if state.get(nxt) == "open":
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(g):
        if node not in state:
            visit(node, [node])
    return found


def test_no_import_cycle_in_genmod():
    assert cycles(graph()) == []


def test_the_cycle_check_finds_a_cycle(tmp_path):
    (tmp_path / "a.py").write_text("from genmod import b\n")
    (tmp_path / "b.py").write_text("def f():\n    import genmod.a\n")
    (tmp_path / "c.py").write_text("from genmod.a import f\n")
    assert cycles(graph(tmp_path)) == [["genmod.a", "genmod.b", "genmod.a"]]


def test_importing_genmod_leaves_arviz_for_first_use():
    # arviz_stats (with scipy.signal) took about 2 s of every kernel's first cell; the ESS and
    # R-hat functions import it when first called
    import subprocess
    import sys

    code = (
        "import sys, genmod\n"
        "from genmod import widgets, diagnostics, mcmc, targets\n"
        "assert 'arviz_stats' not in sys.modules\n"
        "tr = mcmc.sample(targets.get('gaussian'), 'rwm', n_chains=4, n_steps=50, seed=0)\n"
        "print(float(diagnostics.ess(tr).min()) > 0, 'arviz_stats' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"], out.stdout + out.stderr
