"""docs/img/monitoring-alerts.png: Prometheus' alerts page with the alerts of docs/monitoring/mastowizard-alerts.yml
firing for a watch run in trouble (a failing check, a change that matters, a media host certificate 2 days
from its end), taken for real: the lab's Prometheus and node_exporter from Debian (mastowizard_lab.prometheus)
serve the metrics file the watch's own renderer writes for that sample run, and headless Chromium (Debian's,
through Playwright) shows the page.

    python3 scripts/screenshot_monitoring.py [--out docs/img/monitoring-alerts.png] [--keep]

The rules are loaded with every `for:` set to 0s, so the alerts fire at once instead of after their real 5 to
10 minutes (the page shows each rule without its `for:` line). Debian's Prometheus serves the classic web
UI, at /classic/alerts. Needs root the first time (it installs prometheus, prometheus-node-exporter and
chromium from Debian). Both servers are stopped at the end unless --keep is given.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from mastowizard.watch import metrics  # noqa: E402
from mastowizard_lab import procs, prometheus  # noqa: E402

RULES = HERE / "docs" / "monitoring" / "mastowizard-alerts.yml"
EXPECTED = {"MastowizardCheckFailing", "MastowizardChangeMatters", "MastowizardCertificateExpiresSoon",
            "MastowizardCertificateExpiresVerySoon"}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def alerts_page(base: str) -> str:
    """/alerts (upstream's web UI), or /classic/alerts where Debian's build serves only the classic UI."""
    for path in ("/alerts", "/classic/alerts"):
        try:
            with urllib.request.urlopen(base + path, timeout=5):
                return base + path
        except urllib.error.HTTPError:
            continue
    raise SystemExit(f"screenshot: no alerts page at {base}/alerts nor {base}/classic/alerts")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE / "docs" / "img" / "monitoring-alerts.png"))
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--keep", action="store_true", help="leave Prometheus and node_exporter running")
    args = ap.parse_args()
    procs.ensure_debian(["chromium"], ["chromium"])
    work = prometheus.root() / "screenshot"
    work.mkdir(parents=True, exist_ok=True)
    rules = work / "mastowizard-alerts-for-0s.yml"
    rules.write_text(prometheus.rules_with_for(RULES, "0s"))
    info = prometheus.start(work / "textfile", rules)
    try:
        text, _ = prometheus.sample_metrics("trouble", time.time())
        metrics.write(str(info.textfile_dir / "mastowizard.prom"), text)
        deadline = time.monotonic() + 30
        while True:
            firing = {a["labels"]["alertname"] for a in prometheus.api("alerts").get("data", {}).get("alerts", [])
                      if a["state"] == "firing"}
            if firing == EXPECTED:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"screenshot: awaited {sorted(EXPECTED)} firing for 30s; firing: {sorted(firing)}")
            time.sleep(0.2)
        shoot(alerts_page(info.url), Path(args.out), args.width)
    finally:
        if not args.keep:
            prometheus.stop()
    print(f"screenshot: saved {args.out}")
    return 0


def shoot(url: str, out: Path, width: int) -> None:
    from playwright.sync_api import sync_playwright
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900}, device_scale_factor=1)
            page.goto(url)
            page.wait_for_selector("text=Alerts")
            if page.locator("tr.alert_header").count():               # the classic UI: open the firing rules
                page.locator("div.show-annotations").click()
                headers = page.locator("tr.alert_header.alert-danger")
                for i in range(headers.count()):
                    headers.nth(i).click()
                page.wait_for_selector("tr.alert_annotations >> visible=true")
            shown = page.content()
            missing = [name for name in EXPECTED if name not in shown]
            if missing:
                raise SystemExit(f"screenshot: {', '.join(missing)} not on the page")
            # the whole page in one viewport: a full-page capture would paint the fixed navigation bar
            # again wherever the viewport was scrolled to
            height = page.evaluate("document.documentElement.scrollHeight")
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=str(out))
        finally:
            browser.close()
    if out.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"screenshot: {out} is not a PNG")


if __name__ == "__main__":
    sys.exit(main())
