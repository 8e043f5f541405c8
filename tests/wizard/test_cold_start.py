"""The wizard's first screen loads nothing a later step needs: no S3 client, no SSH, no HTTP, no
crypto (imported where they are used), so `mastowizard` opens fast. bench/cold_start.py measures it."""

import json
import subprocess
import sys

FIRST_SCREEN = """
import json, sys
from mastowizard.session import Answers, Session
from screens.app import WizardApp
class FirstScreen(WizardApp):
    def start(self, step="target"):
        super().start(step)
        self.call_after_refresh(self.done)
    def done(self):
        self.loaded = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY or m in LATER)
        self.shown = str(self.screen.query_one(".title").render())
        self.exit()
HEAVY = {"boto3", "botocore", "s3transfer", "paramiko", "cryptography", "httpx", "httpcore", "aiohttp",
         "jinja2", "textual_serve", "pygments"}
LATER = {"mastowizard.cli", "mastowizard.s3.client", "mastowizard.checklist.runner", "mastowizard.migrate.copy",
         "screens.provider", "screens.verify", "screens.copymedia", "textual.widgets._data_table"}
app = FirstScreen(Session(Answers()), save_profile=False)
app.run(headless=True)
print(json.dumps({"loaded": app.loaded, "shown": app.shown}))
"""


def test_the_first_screen_imports_no_s3_ssh_http_or_crypto(tmp_path):
    r = subprocess.run([sys.executable, "-c", FIRST_SCREEN], capture_output=True, text=True, timeout=60,
                       env={"XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    seen = json.loads(r.stdout.strip().splitlines()[-1])
    assert seen["shown"] == "Where does Mastodon run?"          # it is the first screen, mounted
    assert seen["loaded"] == [], seen["loaded"]


def test_the_launcher_reads_its_flags_without_the_cli():
    code = ("import sys; import screens.launch; from screens.args import wizard_parser; wizard_parser(); "
            "print(sorted(m for m in sys.modules if m in ('mastowizard.cli', 'httpx', 'boto3', 'paramiko')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "[]", (r.stdout, r.stderr)
