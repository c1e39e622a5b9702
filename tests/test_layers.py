"""The package's layers: no import runs from a lower layer to a higher one.

core < analysis, theory < data, training < experiments < presentation < command line.
Read with ``ast`` from the source, so a lazy import inside a function counts too.
"""

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "gridform"
README = SRC.parents[1] / "README.md"

LAYERS = {  # module prefix -> layer; the longest matching prefix wins
    "gridform.core": 1, "gridform._moved": 0,
    **dict.fromkeys(("gridform.core.errors", "gridform.core.io", "gridform.core.lazy",
                     "gridform.core.compile_cache", "gridform.core.reference"), 0),
    "gridform.analysis": 2, "gridform.theory": 2, "gridform.attractor": 2,
    "gridform.data": 3, "gridform.training": 3,
    "gridform.experiments": 4,
    "gridform.presentation": 5,
    "gridform.cli": 6,
    "gridform": 6,
}
FOLDERS = ["core", "analysis", "theory", "attractor", "data", "training", "experiments",
           "presentation", "cli"]  # the layers, from the ground up
# Upward imports tolerated for now; each must be listed here, and the entry must go once
# the import is gone (the test below checks both).
KNOWN_UPWARD: set[tuple[str, str]] = set()


def layer(module: str) -> int:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def gridform_imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("gridform."):
                yield name, node.lineno


def upward_imports() -> set[tuple[str, str, int]]:
    found = set()
    for path in sorted(SRC.rglob("*.py")):
        me = module_name(path)
        if path.name == "__init__.py" and me != "gridform":
            continue  # a package's face re-exports its own modules
        for name, line in gridform_imports(path):
            if layer(name) > layer(me):
                found.add((me, name, line))
    return found


def test_the_layer_table_knows_every_module():
    assert layer("gridform.presentation.sweep_report") == 5
    assert layer("gridform.experiments.sweep.engine") == 4
    assert layer("gridform.cli.data") == 6 and layer("gridform.data.nwb") == 3
    for path in SRC.rglob("*.py"):  # every module has a layer more specific than the root
        name = module_name(path)
        assert name == "gridform" or max(
            (p for p in LAYERS if name == p or name.startswith(p + ".")), key=len
        ) != "gridform", f"{name} has no layer"


def test_no_import_runs_up_a_layer():
    found = upward_imports()
    unexpected = sorted(f"{a} (line {n}) imports {b}" for a, b, n in found
                        if (a, b) not in KNOWN_UPWARD)
    assert not unexpected, "upward imports:\n" + "\n".join(unexpected)
    stale = KNOWN_UPWARD - {(a, b) for a, b, _ in found}
    assert not stale, f"no longer imported, remove from KNOWN_UPWARD: {stale}"


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The check itself can fail: a core module importing the CLI is reported."""
    fake = tmp_path / "gridform"
    fake.mkdir()
    (fake / "core").mkdir()
    (fake / "core" / "models.py").write_text("def f():\n    from gridform.cli.app import main\n")
    monkeypatch.setattr(__import__(__name__), "SRC", fake)
    assert upward_imports() == {("gridform.core.models", "gridform.cli.app", 2)}


def test_the_readme_command_table_matches_the_parser():
    import argparse

    from gridform.cli.app import build_parser

    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    commands = set(sub.choices)
    rows = re.findall(r"^\| `gridform ([a-z-]+)", README.read_text(encoding="utf-8"), re.M)
    assert set(rows) == commands, (f"missing from README: {commands - set(rows)}; "
                                   f"not commands: {set(rows) - commands}")


@pytest.mark.parametrize("word", ["session", "issue"])
def test_no_development_history_in_what_users_read(word):
    places = [*SRC.rglob("*.py"), README, *(SRC.parents[1] / "docs").glob("*.md")]
    hits = [f"{p.name}:{i}" for p in places
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(rf"\b{word}s?\b", line, re.I)
            and "session_description" not in line and "session_start_time" not in line]
    assert not hits, f"'{word}' in: {hits}"


def test_the_top_level_shows_the_layers():
    """The folders are the layers, in the order of the table; few modules sit beside them."""
    folders = {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    assert folders == set(FOLDERS)
    assert [layer(f"gridform.{f}") for f in FOLDERS] == sorted(
        layer(f"gridform.{f}") for f in FOLDERS)
    modules = sorted(p.name for p in SRC.glob("*.py"))
    assert len(modules) <= 8, modules


def test_the_tests_mirror_the_layer_folders():
    tests = Path(__file__).resolve().parent
    assert {f for f in FOLDERS if not (tests / f).is_dir()} == set()
    for sub in ("reproduce", "sweep"):
        assert (tests / "experiments" / sub).is_dir()


def test_every_import_in_the_readme_works_without_a_deprecated_path():
    import subprocess
    import sys

    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    imports = [line.strip() for b in blocks for line in b.splitlines()
               if re.match(r"\s*(import|from) \S+", line) and "gridform" in line]
    assert len(imports) >= 5
    code = "import warnings\nwarnings.simplefilter('error')\n" + "\n".join(imports)
    subprocess.run([sys.executable, "-c", code], check=True)
