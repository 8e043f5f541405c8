"""The lab's Mastodon web process, reduced to what a restart shows: it reads the env file when it
starts (so a restart picks up a change) and answers `GET /health` with `OK`, like Mastodon.
`GET /lab/env` reports the S3 settings it started with (secrets left out).

Stdlib only: the lab's systemctl and docker stand-ins run it with /usr/bin/python3 as any user.
The full API stand-in (media uploads) builds on this.
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PUBLIC_KEYS = ("S3_ENABLED", "S3_BUCKET", "S3_REGION", "S3_ENDPOINT", "S3_ALIAS_HOST", "S3_PERMISSION",
               "LOCAL_DOMAIN")


def read_env(path: str) -> dict[str, str]:
    values: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.partition("=")
            key = key.replace("export ", "").strip()
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values[key] = value
    return values


def main(argv: list[str]) -> int:
    env_file, port, pidfile = argv[0], int(argv[1]), argv[2]
    env = read_env(env_file)
    if env.get("LAB_FAIL_START") == "true":
        print("lab: refusing to start (LAB_FAIL_START=true)", file=sys.stderr)
        return 1
    started = {k: env[k] for k in PUBLIC_KEYS if k in env}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/health":
                body, ctype = b"OK", "text/plain"
            elif self.path == "/lab/env":
                body, ctype = json.dumps(started).encode(), "application/json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    with open(pidfile, "w") as f:
        f.write(f"{os.getpid()}\n")
    print(f"lab mastodon: listening on 127.0.0.1:{port}, S3_ENABLED={env.get('S3_ENABLED')}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
