"""The real readers of .env.production, for tests: Ruby's dotenv (Debian's ruby-dotenv, as web and
sidekiq read it), Node's dotenv 16 from npm (as streaming reads it), and Docker Compose's env_file
reader (Debian's docker-compose 1.29; Compose v2's Go reader is not in any registry we reach)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from . import procs
from .config import tools

NODE_DOTENV = "dotenv@16"
_RUBY = 'require "dotenv"; require "json"; print JSON.generate(Dotenv::Parser.call(STDIN.read))'
_NODE = ('const d = require("dotenv"); let s = ""; process.stdin.on("data", c => s += c);'
         'process.stdin.on("end", () => process.stdout.write(JSON.stringify(d.parse(s))));')


def node_dir() -> Path:
    return tools() / "node"


def install() -> None:
    procs.ensure_debian(["ruby-dotenv", "ruby"])
    procs.ensure_debian(["nodejs", "npm"], ["node", "npm"])
    procs.ensure_debian(["docker-compose"], ["/usr/lib/python3/dist-packages/compose/config/environment.py"])
    if not (node_dir() / "node_modules" / "dotenv" / "package.json").exists():
        node_dir().mkdir(parents=True, exist_ok=True)
        procs.run_logged(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(node_dir()), NODE_DOTENV],
                         f"npm install {NODE_DOTENV}")


def _clean_env() -> dict:
    # Ruby's dotenv substitutes $NAME from the environment: give it a known one.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "LANG": "C.UTF-8",
            "NODE_PATH": str(node_dir() / "node_modules")}


def ruby_parse(text: str) -> dict[str, str]:
    r = subprocess.run(["ruby", "-e", _RUBY], input=text.encode(), capture_output=True, env=_clean_env(), timeout=30)
    if r.returncode:
        raise RuntimeError(r.stderr.decode(errors="replace"))
    return json.loads(r.stdout)


def node_parse(text: str) -> dict[str, str]:
    r = subprocess.run([shutil.which("node") or "node", "-e", _NODE], input=text.encode(), capture_output=True,
                       env=_clean_env(), timeout=30)
    if r.returncode:
        raise RuntimeError(r.stderr.decode(errors="replace"))
    return json.loads(r.stdout)


_COMPOSE = ("import json, sys; from compose.config.environment import env_vars_from_file; "
            "print(json.dumps(env_vars_from_file(sys.argv[1])))")


def compose_parse(text: str) -> dict[str, str]:
    """Compose reads env_file from a path, so the text goes through a temporary file."""
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".env", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        r = subprocess.run(["/usr/bin/python3", "-c", _COMPOSE, f.name], capture_output=True,
                           env=_clean_env(), timeout=30)
    if r.returncode:
        raise RuntimeError(r.stderr.decode(errors="replace"))
    return json.loads(r.stdout)
