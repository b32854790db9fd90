"""The architecture holds: no import cycle anywhere in ``spoc`` (imports made inside functions
count), every import made inside a function says why it is there, and the import-linter
contracts in pyproject.toml refuse what they promise to refuse."""

from __future__ import annotations

import ast
import inspect
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
LOCAL_IMPORT_MARK = "# Imported here"


def import_cycles(package: str) -> list[list[str]]:
    """Each group of modules of ``package`` that import one another, through any import
    statement (a function-local one included; ``if TYPE_CHECKING:`` imports are annotations
    only and do not count). Tarjan's strongly connected components, without recursion.

    A module importing a name from a package that contains it (``from spoc.plugins.events
    import settings_of`` inside ``spoc.plugins.events.views``) is no cycle: Python has imported
    that package before the module in any case."""
    graph = grimp.build_graph(package, exclude_type_checking_imports=True)
    edges = {
        m: sorted(
            d for d in graph.find_modules_directly_imported_by(m) if not m.startswith(d + ".")
        )
        for m in graph.modules
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            module, next_edge = work.pop()
            if next_edge == 0:
                index[module] = low[module] = len(index)
                stack.append(module)
                on_stack.add(module)
            targets = edges[module]
            if next_edge < len(targets):
                work.append((module, next_edge + 1))
                target = targets[next_edge]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
    return sorted(groups, key=len, reverse=True)


def unexplained_local_imports(root: Path) -> list[str]:
    """``path:line`` of each import made inside a function under ``root`` without a comment
    saying why, directly above it, that starts with ``# Imported here`` (for a run of
    consecutive imports, above the first). ``if TYPE_CHECKING:`` imports are not run and do
    not count."""
    found: list[tuple[str, int]] = []
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for function in ast.walk(ast.parse(source)):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for block in _statement_blocks(function):
                for index, statement in enumerate(block):
                    if not isinstance(statement, ast.Import | ast.ImportFrom):
                        continue
                    if index and isinstance(block[index - 1], ast.Import | ast.ImportFrom):
                        continue  # the run's first import carries the comment
                    above = _comment_above(lines, statement.lineno)
                    if not any(line.startswith(LOCAL_IMPORT_MARK) for line in above):
                        found.append((str(path.relative_to(root.parent)), statement.lineno))
    return [f"{path}:{line}" for path, line in sorted(found)]


def _statement_blocks(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[list[ast.stmt]]:
    """The statement lists inside a function (its body, branches, loops, ``with``, ``try``),
    not those of functions and classes nested in it (they are walked on their own)."""
    blocks: list[list[ast.stmt]] = []
    pending: list[list[ast.stmt]] = [function.body]
    while pending:
        block = pending.pop()
        blocks.append(block)
        for statement in block:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if isinstance(statement, ast.If) and "TYPE_CHECKING" in ast.unparse(statement.test):
                continue
            for name in ("body", "orelse", "finalbody"):
                child = getattr(statement, name, None)
                if isinstance(child, list) and child and isinstance(child[0], ast.stmt):
                    pending.append(child)
            for handler in getattr(statement, "handlers", []):
                pending.append(handler.body)
            for case in getattr(statement, "cases", []):
                pending.append(case.body)
    return blocks


def _comment_above(lines: list[str], lineno: int) -> list[str]:
    comments = []
    at = lineno - 2  # the line above, 0-based
    while at >= 0 and lines[at].strip().startswith("#"):
        comments.append(lines[at].strip())
        at -= 1
    return comments


def _copy_of_spoc(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "spoc", tmp_path / "spoc", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _run(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tree), str(ROOT / "examples" / "spoc-facilities")]),
    }
    return subprocess.run(args, cwd=tree, env=env, capture_output=True, text=True, check=False)


def _plant(path: Path, code: str) -> None:
    path.write_text(path.read_text() + "\n\n" + textwrap.dedent(code))


def _cycles_in(tree: Path) -> str:
    script = (
        "import grimp, json\n"
        + inspect.getsource(import_cycles)
        + "print(json.dumps(import_cycles('spoc')))\n"
    )
    done = _run(tree, sys.executable, "-c", script)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_spoc_has_no_import_cycle_even_counting_function_local_imports() -> None:
    assert import_cycles("spoc") == []


def test_a_cycle_made_by_a_function_local_import_is_found(tmp_path: Path) -> None:
    tree = _copy_of_spoc(tmp_path)
    _plant(
        tree / "spoc" / "core" / "kernel" / "errors.py",
        """
        def _planted() -> object:
            from spoc.core.domain import models

            return models
        """,
    )
    found = _cycles_in(tree)
    assert "spoc.core.kernel.errors" in found
    assert "spoc.core.domain.models" in found


def test_every_function_local_import_says_why_it_is_not_at_module_level() -> None:
    assert unexplained_local_imports(ROOT / "spoc") == []


def test_a_function_local_import_without_its_reason_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text(
        textwrap.dedent(
            """
            def explained():
                # Imported here to keep start-up light: only this command needs it.
                import json
                from pathlib import Path

                return json, Path


            def unexplained(flag):
                if flag:
                    # Some other comment.
                    import csv

                    return csv
                try:
                    from decimal import Decimal
                except ImportError:
                    return None
                return Decimal
            """
        )
    )
    assert unexplained_local_imports(package) == ["pkg/mod.py:13", "pkg/mod.py:17"]


@pytest.mark.parametrize(
    ("planted_in", "code", "contract"),
    [
        (
            "spoc/plugins/generic/__init__.py",
            "from spoc.core.domain.models import Request as _Request\n",
            "Plugins and examples import the public API `spoc`, never `spoc.core`",
        ),
        (
            "spoc/plugins/events/__init__.py",
            "def _planted() -> object:\n    import spoc.plugins.logistics\n\n"
            "    return spoc.plugins.logistics\n",
            "No plugin imports another",
        ),
        (
            "spoc/core/domain/sla.py",
            "def _planted() -> object:\n    from spoc.core.web import pages\n\n    return pages\n",
            "The core's layers: each imports only the layers below it",
        ),
        (
            "spoc/core/domain/lifecycle.py",
            "import flask as _flask\n",
            "Below the web layer nothing imports Flask",
        ),
    ],
    ids=["plugin-imports-core", "plugin-imports-plugin", "domain-imports-web", "domain-flask"],
)
def test_import_linter_refuses_a_broken_contract(
    tmp_path: Path, planted_in: str, code: str, contract: str
) -> None:
    tree = _copy_of_spoc(tmp_path)
    untouched = _run(tree, str(LINT_IMPORTS), "--no-cache")
    assert untouched.returncode == 0, untouched.stdout
    _plant(tree / planted_in, code)
    broken = _run(tree, str(LINT_IMPORTS), "--no-cache")
    assert broken.returncode == 1, broken.stdout
    assert f"{contract}" in broken.stdout
    assert "BROKEN" in broken.stdout


def test_importing_the_plugin_api_loads_no_web_view_and_not_the_factory() -> None:
    probe = (
        "import sys, spoc\n"
        "from spoc import hookimpl\n"
        "print(sorted(m for m in sys.modules if m.startswith(('spoc.core.web.', 'spoc.core.app'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "['spoc.core.web.forms']"  # field types only (spoc.Phone)


MAX_CORE_MODULE_LINES = 500


def test_no_core_module_is_over_500_lines_except_migrations_and_hookspecs() -> None:
    exempt = {ROOT / "spoc/core/platform/hookspecs.py"}
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in (ROOT / "spoc/core").rglob("*.py")
        if "migrations" not in path.parts and path not in exempt
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_CORE_MODULE_LINES
    }
    assert too_long == {}
