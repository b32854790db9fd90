"""Meta-tests: every hook is documented, tested, and the generated reference is current."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from spoc.core.platform import hookspecs
from spoc.core.platform.hookdoc import render_hook_reference

ROOT = Path(__file__).resolve().parents[3]
HOOKS = hookspecs.hook_names()


def test_every_spec_is_listed_in_a_phase_exactly_once() -> None:
    assert sorted(HOOKS) == sorted(hookspecs._all_specs())
    assert len(HOOKS) == len(set(HOOKS))


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented(name: str) -> None:
    doc = inspect.getdoc(hookspecs._all_specs()[name]) or ""
    assert len(doc.splitlines()[0]) > 20, f"{name} needs a one-line summary"
    for section in ("Arguments:", "Returns:", "firstresult:"):
        assert section in doc, f"{name} docstring lacks {section!r}"
    signature = inspect.signature(hookspecs._all_specs()[name])
    for argument in signature.parameters:
        assert f"{argument}:" in doc, f"{name} does not describe argument {argument!r}"
    assert signature.return_annotation is not inspect.Signature.empty


def _test_function_names() -> set[str]:
    names: set[str] = set()
    # The project's tests, and the example plugin's own (it tests its hooks where it lives).
    paths = [*(ROOT / "tests").rglob("test_*.py"), *(ROOT / "examples").glob("*/tests/test_*.py")]
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return names


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_a_test(name: str) -> None:
    prefix = f"test_hook_{name.removeprefix('spoc_')}"
    assert any(n.startswith(prefix) for n in _test_function_names()), (
        f"no test named {prefix}_... exercises {name}"
    )


def test_generated_hook_reference_is_up_to_date() -> None:
    current = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    assert current == render_hook_reference(), "docs/hooks.md is stale: run `spoc docs hooks`"
