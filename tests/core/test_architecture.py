"""The engine stays headless, and no command takes a secret on its command line."""

import ast
from pathlib import Path

from mastowizard.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


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
    from screens.args import wizard_parser
    from screens.web import parser as web_parser
    options = set()
    for parser in (build_parser(), wizard_parser(), web_parser()):
        for action in parser._actions:
            options |= set(action.option_strings)
            for sub in getattr(action, "choices", None) or {}:
                for a in action.choices[sub]._actions:
                    options |= set(a.option_strings)
    assert {"--ssh", "--sessions", "--allow-remote"} <= options
    # a file that holds a secret (--token-file, 0600) is the safe way to give one: its path is no secret
    assert not [o for o in options if any(w in o.lower() for w in ("secret", "password", "token", "key-id"))
                and not o.endswith("-file")]
    assert "--token-file" in options


# The engine's layers, top to bottom (../shared/design/layout.md): a module imports only from its own
# layer or the ones below, never from one above it.
LAYERS = [
    {"session", "cli", "__main__", "summary", "options"},
    {"checklist", "migrate", "watch"},
    {"s3", "env", "instance"},
    {"settings", "host"},
    {"providers", "validate", "net", "secrets", "results", "errors", "argv", "timing", "__init__"},
]


def _domain(path: Path) -> str:
    rel = path.relative_to(ROOT / "mastowizard")
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _engine_imports(path: Path) -> set[str]:
    """The engine domains a module imports (relative imports resolved from its package)."""
    tree = ast.parse(path.read_text())
    pkg = path.relative_to(ROOT).parent.parts
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(pkg[: len(pkg) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [])
            else:
                parts = (node.module or "").split(".")
            if parts[:1] != ["mastowizard"]:
                continue
            if len(parts) == 1:   # from mastowizard import x, y
                found |= {a.name for a in node.names}
            else:
                found.add(parts[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("mastowizard.")}
    return found


def test_no_engine_import_runs_up_a_layer():
    rank = {name: i for i, layer in enumerate(LAYERS) for name in layer}
    offenders = []
    for p in sorted((ROOT / "mastowizard").rglob("*.py")):
        mine = rank[_domain(p)]
        for d in _engine_imports(p):
            if d in rank and rank[d] < mine:
                offenders.append(f"{p.relative_to(ROOT)} imports {d}")
    assert offenders == []


def test_every_engine_module_has_a_layer():
    domains = {_domain(p) for p in (ROOT / "mastowizard").rglob("*.py")}
    assert domains <= {name for layer in LAYERS for name in layer}
