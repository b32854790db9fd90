"""Render docs/hooks.md from the hook specifications, so the reference cannot drift."""

from __future__ import annotations

import inspect
import textwrap

from spoc.core.platform import hookspecs


def render_hook_reference() -> str:
    specs = hookspecs._all_specs()
    lines = [
        "# Hook reference",
        "",
        (
            "<!-- Generated from spoc/core/platform/hookspecs.py by `spoc docs hooks`;"
            " do not edit. -->"
        ),
        "",
        textwrap.dedent(hookspecs.__doc__ or "").strip(),
        "",
    ]
    for phase, names in hookspecs.PHASES.items():
        lines += [f"## {phase}", ""]
        for name in names:
            spec = specs[name]
            signature = str(inspect.signature(spec)).replace("'", "")
            lines += [
                f"### `{name}`",
                "",
                "```python",
                "@hookimpl",
                f"def {name}{signature}: ...",
                "```",
                "",
                inspect.cleandoc(spec.__doc__ or ""),
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"
