"""The engine stays headless, and no command takes a secret on its command line."""

import ast
from pathlib import Path

from mastowizard.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_engine_never_imports_textual_or_screens():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "mastowizard").rglob("*.py")
                 if imported_modules(p) & {"textual", "screens", "rich", "mastowizard_lab"}]
    assert offenders == []


def test_no_option_takes_a_secret():
    parser = build_parser()
    options = set()
    for action in parser._actions:
        options |= set(action.option_strings)
        for sub in getattr(action, "choices", None) or {}:
            for a in action.choices[sub]._actions:
                options |= set(a.option_strings)
    assert not [o for o in options if any(w in o.lower() for w in ("secret", "password", "token", "key-id"))]
