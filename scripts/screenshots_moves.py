"""The docs' screenshots of the moves, taken for real in the lab: the Copy media step of an instance
already on S3 (an old bucket on Ceph RGW, filled as Mastodon fills it), (1) after copying the old
bucket into a new one on MiniStack, (2) in place, after the survey of a bucket rclone left
private, with the repair on offer, and (3) the way back to disk: the Target step's choice, then
Copy media after the copy into public/system. Saved as docs/img/wizard-copymedia-move.(svg|png),
wizard-copymedia-repair, wizard-target-todisk and wizard-copymedia-todisk. The lab's buckets are
removed afterwards.

    sudo python3 scripts/screenshots_moves.py [--size 100x32] [--out docs/img]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

import mastowizard_lab as lab  # noqa: E402
from mastowizard.migrate.copy import copy_tree  # noqa: E402
from mastowizard.s3.bucket_setup import setup_bucket  # noqa: E402
from mastowizard.s3.credential import Credential  # noqa: E402
from mastowizard.secrets import Secret  # noqa: E402
from mastowizard.session import Answers, Session  # noqa: E402
from mastowizard.settings import Settings  # noqa: E402
from mastowizard_lab import buckets, nginx, procs  # noqa: E402
from mastowizard_lab.config import NGINX_HTTP_PORT, NGINX_HTTPS_PORT  # noqa: E402
from mastowizard_lab.media_tree import make_tree  # noqa: E402
from screens.app import WizardApp  # noqa: E402

RESOLVE = [f"*.media.test:{NGINX_HTTP_PORT}:127.0.0.1", f"*.media.test:{NGINX_HTTPS_PORT}:127.0.0.1"]


class At(WizardApp):
    first = "copymedia"

    def start(self, step: str = "target") -> None:
        super().start(self.first)


def settings(srv, name: str) -> Settings:
    return Settings.build(bucket=name, provider="ceph" if srv.name == "rgw" else "other", region=srv.region,
                          endpoint=srv.endpoint, addressing="path", permission="acl",
                          alias_host=f"{nginx.media_host(srv.name, name)}:{NGINX_HTTPS_PORT}")


def env_text(srv, name: str) -> str:
    return (f"LOCAL_DOMAIN=demo.example\nS3_ENABLED=true\nS3_BUCKET={name}\nS3_REGION={srv.region}\n"
            f"S3_ENDPOINT={srv.endpoint}\nS3_PROTOCOL=https\n"
            f"S3_ALIAS_HOST={nginx.media_host(srv.name, name)}:{NGINX_HTTPS_PORT}\nS3_PERMISSION=public-read\n"
            f"AWS_ACCESS_KEY_ID={srv.writer_access_key}\nAWS_SECRET_ACCESS_KEY={srv.writer_secret_key}\n")


def shoot(app, out: Path, name: str, cols: int, secrets: list[str]) -> str:
    svg = app.export_screenshot(title=f"mastowizard: {name}")
    if any(s and s in svg for s in secrets):
        raise SystemExit(f"screenshots: a secret is on the {name} screen: not saved")
    path = out / f"wizard-{name}.svg"
    path.write_text(svg)
    subprocess.run(["rsvg-convert", "--width", str(cols * 11), "--output", str(path.with_suffix(".png")),
                    str(path)], check=True)
    return str(path.with_suffix(".png"))


async def until(app, pilot, text: str) -> None:
    for _ in range(600):
        await pilot.pause(0.1)
        if text in str(app.screen.query_one("#status").render()):
            return
    raise SystemExit(f"screenshots: {text!r} never appeared: {app.screen.query_one('#status').render()}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="100x32", help="terminal size, COLSxROWS")
    ap.add_argument("--out", default=str(HERE / "docs" / "img"))
    args = ap.parse_args()
    cols, rows = (int(n) for n in args.size.lower().split("x"))
    out = Path(args.out)
    procs.ensure_debian(["librsvg2-bin"], ["rsvg-convert"])
    rgw, ministack = lab.start("rgw"), lab.start("ministack")
    lab.start("nginx")
    work = Path(tempfile.mkdtemp(prefix="mw-shots-"))
    old, new = f"mw-old-{uuid.uuid4().hex[:6]}", f"mw-new-{uuid.uuid4().hex[:6]}"
    made = [(rgw, old), (ministack, new)]
    saved = []
    try:
        for srv, name in made:
            buckets.create_bucket(srv, name)
            setup_bucket(settings(srv, name), Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))
        tree = make_tree(work / "system", 120, suspended=4)
        copy_tree(settings(rgw, old), Credential(rgw.writer_access_key, Secret(rgw.writer_secret_key)),
                  str(tree.root), jobs=16)
        env = work / "live" / ".env.production"
        env.parent.mkdir()
        env.write_text(env_text(rgw, old))
        secrets = [rgw.writer_secret_key, ministack.writer_secret_key]

        session = Session(Answers(env_file=str(env), resolve=RESOLVE, ca_bundle=str(nginx.ca_pem())))
        session.connect()
        session.read_instance()
        a = session.answers                      # the Provider step: the new bucket on another provider
        a.provider, a.bucket, a.endpoint, a.region, a.addressing = "other", new, ministack.endpoint, \
            ministack.region, "path"
        a.access_key_id, a.alias_host = ministack.writer_access_key, settings(ministack, new).alias_host
        session.secret_access_key = Secret(ministack.writer_secret_key)
        app = At(session, save_profile=False)

        async def move() -> None:
            async with app.run_test(size=(cols, rows)) as pilot:
                await until(app, pilot, "in the old bucket")
                app.screen.action_main()
                await until(app, pilot, "every file is in the bucket and verified")
                saved.append(shoot(app, out, "copymedia-move", cols, secrets))
        asyncio.run(move())

        env2 = work / "live2" / ".env.production"          # in place: a bucket rclone left private
        env2.parent.mkdir()
        env2.write_text(env_text(ministack, new))
        rclone = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        rclone.update({"RCLONE_CONFIG_LAB_TYPE": "s3", "RCLONE_CONFIG_LAB_PROVIDER": "Other",
                       "RCLONE_CONFIG_LAB_ENDPOINT": ministack.endpoint, "RCLONE_CONFIG_LAB_REGION": ministack.region,
                       "RCLONE_CONFIG_LAB_ACCESS_KEY_ID": ministack.writer_access_key,
                       "RCLONE_CONFIG_LAB_SECRET_ACCESS_KEY": ministack.writer_secret_key,
                       "RCLONE_CONFIG_LAB_FORCE_PATH_STYLE": "true", "RCLONE_CONFIG": "/dev/null"})
        subprocess.run(["rclone", "copy", str(tree.root), f"lab:{new}", "--transfers", "16"], env=rclone, check=True,
                       capture_output=True)
        session = Session(Answers(env_file=str(env2), resolve=RESOLVE, ca_bundle=str(nginx.ca_pem())))
        session.connect()
        session.read_instance()
        app = At(session, save_profile=False)

        async def repair() -> None:
            async with app.run_test(size=(cols, rows)) as pilot:
                await until(app, pilot, "nothing on disk")
                await pilot.click("#repair")
                await until(app, pilot, "the bucket is suspect")
                saved.append(shoot(app, out, "copymedia-repair", cols, secrets))
        asyncio.run(repair())

        session = Session(Answers(env_file=str(env), resolve=RESOLVE, ca_bundle=str(nginx.ca_pem())))
        app = At(session, save_profile=False)        # the way back: the old bucket into public/system
        app.first = "target"

        async def to_disk() -> None:
            async with app.run_test(size=(cols, rows)) as pilot:
                app.screen.query_one("#read").press()
                await until(app, pilot, "choose where its media goes")
                app.screen.query_one("#to-disk").value = True
                await pilot.pause()
                app.screen.query_one("#found").scroll_visible(animate=False)
                await pilot.pause()
                saved.append(shoot(app, out, "target-todisk", cols, secrets))
                app.screen.action_next()
                await until(app, pilot, "to copy to disk")
                app.screen.action_main()
                await until(app, pilot, "every object is on disk and verified")
                app.screen.query_one("#copied").scroll_visible(animate=False)
                await pilot.pause()
                saved.append(shoot(app, out, "copymedia-todisk", cols, secrets))
        asyncio.run(to_disk())
    finally:
        for srv, name in made:
            try:
                buckets.empty_and_delete_bucket(srv, name)
            except Exception:  # noqa: BLE001 - best effort
                pass
        shutil.rmtree(work, ignore_errors=True)
    print(f"screenshots: {len(saved)} saved ({', '.join(saved)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
