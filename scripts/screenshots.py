"""The docs' screenshots, taken for real: the wizard walked through the demo lab (as the quick
start's demo does: each step's main action, then Next) and each step saved after its action as
docs/img/wizard-STEP.svg and .png (PNG shows on any forge; rsvg-convert from Debian's
librsvg2-bin makes it, installed when missing), starting from a new demo bucket (the demo's is emptied first).
The env file is rolled back at the end, as `demo --smoke` does.

    sudo python3 scripts/screenshots.py [--size 100x32] [--out docs/img]

Needs root (the demo lab does). No secret may appear in a screenshot: checked before saving.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from mastowizard_lab import buckets, demo, procs, rgw  # noqa: E402
from screens.app import WizardApp  # noqa: E402

# what each step's status line says when its action is done (as test_demo_tmux waits for)
DONE = {"target": "read the instance", "provider": "probe", "permission": "set up for this mode",
        "mediahost": "media host pass", "copymedia": "every file is in the bucket",
        "review": "backup:", "restart": "healthy", "verify": "every check passed",
        "summary": "every check passed"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="100x32", help="terminal size, COLSxROWS")
    ap.add_argument("--out", default=str(HERE / "docs" / "img"))
    args = ap.parse_args()
    cols, rows = (int(n) for n in args.size.lower().split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if rgw.is_running():        # a first copy into a new bucket, as an operator sees it the first time
        try:
            buckets.empty_and_delete_bucket(rgw.info(), demo.BUCKET)
        except Exception:  # noqa: BLE001 - there is none yet
            pass
    procs.ensure_debian(["librsvg2-bin"], ["rsvg-convert"])
    session = demo.prepare()
    secrets = [s.reveal() for s in (session.secret_access_key, session.token, session.admin.secret_access_key)]
    app = WizardApp(session, save_profile=False)
    saved: list[str] = []

    def shoot(name: str, title: str) -> None:
        path = out / f"wizard-{name}.svg"
        svg = app.export_screenshot(title=f"mastowizard: {title}")
        if [s for s in secrets if s and s in svg]:
            raise SystemExit(f"screenshots: a secret is on the {title} screen: not saved")
        path.write_text(svg)
        png = path.with_suffix(".png")
        subprocess.run(["rsvg-convert", "--width", str(cols * 11), "--output", str(png), str(path)], check=True)
        saved.append(str(png.relative_to(HERE) if png.is_relative_to(HERE) else png))

    async def walk() -> None:
        async with app.run_test(size=(cols, rows)) as pilot:
            for step in DONE:
                assert step == app.screen.STEP, (app.screen.STEP, step)
                await pilot.pause()
                await app.workers.wait_for_complete()
                if step != "summary":                      # its action saves a report: not here
                    app.screen.action_main()
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause(0.3)
                if app.screen.__class__.__name__ == "ConfirmScreen":    # Write and Restart ask first
                    asked = out / f"wizard-{step}-confirm.svg"
                    asked.write_text(app.export_screenshot(title=f"mastowizard: {step}, confirm"))
                    subprocess.run(["rsvg-convert", "--width", str(cols * 11), "--output",
                                    str(asked.with_suffix(".png")), str(asked)], check=True)
                    await pilot.press("y")
                    await pilot.pause()
                    await app.workers.wait_for_complete()
                    await pilot.pause(0.3)
                status = str(app.screen.query_one("#status").render())
                if DONE[step] not in status:
                    raise SystemExit(f"screenshots: step {step} did not finish: {status}")
                shoot(step, step)
                if step == "summary":                      # and its offer to keep watching, taken up
                    app.screen.query_one("#keep-watching").press()
                    await pilot.pause()
                    await app.workers.wait_for_complete()
                    await pilot.pause(0.3)
                    if app.screen.__class__.__name__ == "ConfirmScreen":    # one from an earlier run: replace it
                        await pilot.press("y")
                        await pilot.pause()
                        await app.workers.wait_for_complete()
                        await pilot.pause(0.3)
                    if "baseline saved" not in str(app.screen.query_one("#status").render()):
                        raise SystemExit("screenshots: the summary's baseline was not saved: "
                                         + str(app.screen.query_one("#status").render()))
                    shoot("summary-watch", "summary, keep watching")
                app.screen.action_next()
                await pilot.pause()
    try:
        asyncio.run(walk())
    finally:
        if session.backup:
            session.rollback()
        for leftover in (session.baseline_path(), session.baseline_path() + ".state"):
            if session.host is not None and session.host.exists(leftover):
                session.host.remove(leftover)        # the demo starts again with no baseline
    print(f"screenshots: {len(saved)} saved ({', '.join(saved)}); the demo's env file is rolled back")
    return 0


if __name__ == "__main__":
    sys.exit(main())
