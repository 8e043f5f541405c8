"""The wizard's engine side (boto3 and httpx are imported when a step needs them, not at start): one object holding the answers and what was found, and the steps the
UI calls (each blocking; the UI runs them in workers). Nothing here imports Textual; the same steps
back the CLI. Secrets are held as Secret and never saved: the profile keeps only the rest."""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .env.file import default_env_file
from .errors import InputError
from .host.local import LocalHost
from .results import Check
from .secrets import Secret

if TYPE_CHECKING:     # the env file's plan and the settings load when a step needs them (a fast first screen)
    from .env.plan import EnvFile, Plan
    from .settings import Settings


@dataclass
class Answers:
    """What the operator chose. Saved as the profile (nothing secret) so a rerun resumes."""

    target: str = "local"                 # local | ssh
    ssh: str = ""                         # [user@]host[:port]
    sudo_user: str = ""
    known_hosts: str = ""
    identity: str = ""
    accept_host_key: str = ""
    env_file: str = field(default_factory=default_env_file)
    provider: str = "aws"
    bucket: str = ""
    region: str = ""
    endpoint: str = ""
    addressing: str = ""
    permission: str = ""
    alias_host: str = ""
    protocol: str = "https"
    key_prefix: str = ""
    access_key_id: str = ""
    instance: str = ""
    resolve: list[str] = field(default_factory=list)
    ca_bundle: str = ""
    step: str = "target"


def profile_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "mastowizard" / "profile.json"


def load_answers(path: Path | None = None) -> Answers:
    p = path or profile_path()
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        return Answers()
    known = {f.name for f in fields(Answers)}
    return Answers(**{k: v for k, v in data.items() if k in known})


def saved_files_dir() -> str:
    """Where the wizard saves what it offers to save (documents, reports): $MASTOWIZARD_FILES, else
    ~/mastowizard, a place an admin finds again, not whatever directory the wizard started in."""
    return os.path.abspath(os.environ.get("MASTOWIZARD_FILES") or os.path.expanduser("~/mastowizard"))


def save_answers(answers: Answers, path: Path | None = None) -> Path:
    p = path or profile_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(answers), indent=2))
    os.chmod(tmp, 0o600)
    os.replace(tmp, p)
    return p


def _risk_first(lines: list[str], gap) -> list[str]:
    """A confirmation's lines: what the action risks first when it risks losing media, last otherwise."""
    if gap is None:
        return lines
    return [*gap.lines(), *lines] if not gap.safe else [*lines, *gap.lines()]


@dataclass
class Session:
    answers: Answers = field(default_factory=Answers)
    secret_access_key: Secret | None = None
    admin: Any = None                     # s3client.Credential, never saved
    admin_profile: Any = None             # s3.profiles.AdminProfile the admin key came from, if one
    admin_from: str = "given at launch"   # where the admin key came from, said before it changes a bucket
    token: Secret | None = None
    sudo_password: Secret | None = None
    ssh_password: Secret | None = None    # the SSH login's password, where the login needs one
    key_passphrase: Secret | None = None  # the SSH key's passphrase, where the key has one
    host: Any = None
    found: dict | None = None
    env: EnvFile | None = None
    plan: Plan | None = None
    measured: dict = field(default_factory=dict)   # what the jobs checks asked the env file for (s3.jobs.measured)
    backup: str | None = None
    checks: list[Check] = field(default_factory=list)
    inventory: Any = None                 # migrate.inventory.Inventory of the media on disk
    copies: list = field(default_factory=list)     # migrate.job.CopyReport of every copy of this run, in order
    written: list = field(default_factory=list)    # (the changes written, the backup) of every write of this run
    bucket_setup: list[Check] = field(default_factory=list)   # what setup_bucket changed (for the summary)
    oauth_pending: Any = None             # instance.oauth.Authorization waiting for the pasted code
    oauth_token: Any = None               # instance.oauth.Token got here (memory only), to revoke after

    @property
    def copied(self):
        """The CopyReport (copy, verification) of the last copy of this run, or None."""
        return self.copies[-1] if self.copies else None

    def secrets(self) -> list:
        """Every secret this session holds: what no screen, log or report may show."""
        return [self.secret_access_key, self.token, getattr(self.admin, "secret_access_key", None),
                self.sudo_password, self.ssh_password, self.key_passphrase]

    # -- step 1: where is the instance -------------------------------------------------------
    def connect(self, prompt=None) -> str:
        from .host.connect import open_host
        a = self.answers
        remote = a.target == "ssh"
        self.host = open_host(a.ssh if remote else None, known_hosts=a.known_hosts, accept_host_key=a.accept_host_key,
                              identity=a.identity, sudo_user=a.sudo_user if remote else None,
                              sudo_password=self.sudo_password, ssh_password=self.ssh_password,
                              key_passphrase=self.key_passphrase, prompt=prompt)
        return self.host.describe()

    def read_instance(self) -> dict:
        """What the env file says now; prefills the answers from an instance already on S3."""
        from .env.plan import EnvFile, describe
        from .settings import from_env
        self.env = EnvFile.read(self.host, self.answers.env_file)
        self.found = describe(self.env)
        from .checklist.checks import sample_local_media
        live = posixpath.dirname(self.answers.env_file)
        self.found["local_media"] = sample_local_media(self.host, live, 3)
        self.found["install"] = self._install_kind()
        self.found["media_bytes"] = self._media_size(live)
        values = self.env.doc.values()
        try:
            reading = from_env(values)
        except InputError:
            reading = None
        if reading and reading.settings and not self.answers.bucket:
            s = reading.settings
            a = self.answers
            a.provider, a.bucket, a.region = s.provider, s.bucket, s.region
            a.endpoint, a.addressing, a.permission = s.endpoint or "", s.addressing, s.permission
            a.alias_host, a.protocol, a.key_prefix = s.alias_host or "", s.protocol, s.key_prefix or ""
            a.access_key_id = s.access_key_id or ""
            if s.secret_access_key and self.secret_access_key is None:
                self.secret_access_key = s.secret_access_key
        return self.found

    def _install_kind(self) -> str:
        from .host.restart import detect
        try:
            return detect(self.host, self.answers.env_file).describe()
        except Exception as e:
            return f"not detected ({e})"

    def _media_size(self, live: str) -> int | None:
        """Bytes under public/system (du), or None where it cannot be measured."""
        from .host.disk import disk_usage
        return disk_usage(self.host, posixpath.join(live, "public", "system"), timeout=120)

    # -- steps 2-4: the bucket ----------------------------------------------------------------
    def settings(self) -> Settings:
        from .settings import Settings
        a = self.answers
        s = Settings.build(bucket=a.bucket, provider=a.provider, region=a.region or None, endpoint=a.endpoint or None,
                           addressing=a.addressing or None, permission=a.permission or None,
                           alias_host=a.alias_host or None, protocol=a.protocol or None,
                           key_prefix=a.key_prefix or None)
        if a.access_key_id and self.secret_access_key:
            s = s.with_credentials(a.access_key_id, self.secret_access_key)
        return s

    def http(self):
        from .net import HttpOptions
        return HttpOptions.build(self.answers.resolve, self.answers.ca_bundle or None)

    def writer(self):
        from .s3.credential import Credential
        if not (self.answers.access_key_id and self.secret_access_key):
            raise InputError("writer credential", "access key id and secret are both needed", "fill in both fields")
        return Credential(self.answers.access_key_id, self.secret_access_key)

    def probe(self, on_check: Callable[[Check], None] | None = None) -> list[Check]:
        """The bucket's probes; what the jobs checks measured is kept for Review's plan."""
        from .s3.jobs import measured
        from .s3.probes import run_probes
        checks = run_probes(self.settings(), self.writer(), self.http(), self.admin, on_check)
        self.measured = measured(checks)
        return checks

    def documents(self) -> dict:
        from .s3.policies import documents
        return documents(self.settings())

    def save_documents(self, directory: str | None = None) -> list[str]:
        """The bucket policy, CORS and writer policy as JSON files to paste into a console, in
        ~/mastowizard/ (or DIRECTORY): absolute paths, never the current directory."""
        from .s3.policies import to_json
        directory = os.path.abspath(directory or saved_files_dir())
        os.makedirs(directory, exist_ok=True)
        paths = []
        for name, doc in self.documents().items():
            path = os.path.join(directory, f"{self.answers.bucket}-{name}.json")
            with open(path, "w") as f:
                f.write(to_json(doc) + "\n")
            paths.append(path)
        return paths

    def use_admin_key(self, key_id: str, secret: Secret) -> None:
        """The admin key pasted on the Permission step (memory only)."""
        from .s3.credential import Credential
        self.admin, self.admin_profile, self.admin_from = Credential(key_id, secret), None, "pasted here"

    def _admin_settings(self, profile: str | None) -> Settings:
        if profile:
            self.use_admin_profile(profile)
        if self.admin is None:
            raise InputError("Admin key id", "an admin key is needed to change the bucket", "choose an AWS "
                             "profile or paste an admin key, or apply the documents in the provider's console")
        return self.admin_profile.fill(self.settings()) if self.admin_profile else self.settings()

    def describe_bucket_setup(self, profile: str | None = None) -> list[str]:
        """What Apply to the bucket will change, on which bucket, with which key: for the confirmation."""
        from .s3.bucket_setup import describe_setup
        settings = self._admin_settings(profile)
        return describe_setup(settings, self.admin, self.admin_from, self.http(), self.answers.access_key_id)

    def save_text(self, name: str, text: str, directory: str | None = None) -> str:
        """TEXT as the file NAME in ~/mastowizard/ (or DIRECTORY), whole, mode 0600, written
        atomically: a long line (a URL, an nginx block) copied without a terminal's wrapping. Its
        absolute path."""
        directory = os.path.abspath(directory or saved_files_dir())
        os.makedirs(directory, mode=0o700, exist_ok=True)
        path = os.path.join(directory, os.path.basename(name))
        tmp = f"{path}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text if text.endswith("\n") else text + "\n")
        os.replace(tmp, path)
        return path

    def setup_bucket(self, profile: str | None = None) -> list[Check]:
        """Apply the mode's bucket documents with the admin key: the one held, or the AWS PROFILE's."""
        from .s3.bucket_setup import setup_bucket
        settings = self._admin_settings(profile)
        self.bucket_setup = setup_bucket(settings, self.admin, self.http())
        return self.bucket_setup

    def admin_profiles(self) -> list[str]:
        """The AWS profiles on this machine (~/.aws), by name: a choice beside pasting an admin key."""
        from .s3.profiles import list_profiles
        return list_profiles()

    def use_admin_profile(self, name: str) -> str:
        """Take the admin key from the AWS profile NAME (read now, held in memory, never saved)."""
        from .s3.profiles import load
        self.admin_profile = load(name)
        self.admin, self.admin_from = self.admin_profile.credential, f"AWS profile {name}"
        return name

    # -- step 5: the media already on disk ---------------------------------------------------
    def media_source(self) -> str:
        """public/system of the instance (PAPERCLIP_ROOT_PATH honoured), on the host the wizard reads."""
        from .migrate.inventory import source_dir
        if self.host is None:
            raise InputError("target", "the instance is not read yet", "run step 1, Target, first")
        return source_dir(self.answers.env_file, self.env.doc.values() if self.env else {})

    def media_transfer(self) -> str:
        """How the files reach this machine, and what it costs (said on the Copy media step)."""
        from .migrate.remote import describe_transfer
        if isinstance(self.host, LocalHost):
            return "files: read from this machine's disk"
        return "files: " + describe_transfer(self.host, "tar")

    def media_inventory(self):
        """What is on disk (files, bytes, private ones per folder), and the lines that explain it."""
        from .migrate.run import inventory_lines, inventory_of
        self.inventory = inventory_of(self.media_source(), self.host, spool=False)
        return self.inventory, [*inventory_lines(self.inventory, self.settings()), self.media_transfer()]

    def copy_media(self, on_progress=None, cancel=None):
        """Copy (or copy again: only what is new) and verify. Safe to rerun, and to cancel."""
        from .migrate.job import copy_and_verify
        from .migrate.objects import multipart_threshold
        from .migrate.run import open_tree
        src = self.media_source()
        settings = self.settings()
        # anew: a rerun (the final delta) has new files
        inv, reader = open_tree(src, self.host, "tar", large_over=multipart_threshold(settings))
        try:
            self.copies.append(copy_and_verify(settings, self.writer(), src, http=self.http(),
                                               on_progress=on_progress, cancel=cancel, inventory=inv, reader=reader))
        finally:
            reader.close()
            inv.close()
        self.inventory = inv
        return self.copied

    def prune_plan(self, days):
        """The `tootctl media remove --days N` command for this install, and the bytes under cache/
        now (from the last inventory); nothing runs until prune_cache."""
        from .host.restart import detect
        from .migrate.prune import check_days, prune_command
        days = check_days(days, "days (remote media cache)")
        if self.host is None:
            raise InputError("target", "the instance is not read yet", "run step 1, Target, first")
        install = detect(self.host, self.answers.env_file)
        cmd = prune_command(self.host, install, self.answers.env_file, days)
        cache = self.inventory.folders.get("cache") if self.inventory is not None else None
        return cmd, (cache.bytes if cache else None)

    def prune_cache(self, cmd, on_line: Callable[[str], None] | None = None) -> tuple[bool, list[str]]:
        """Run the command prune_plan made (the operator confirmed it); (ok, its last lines)."""
        from .migrate.prune import run_prune
        return run_prune(self.host, cmd, on_line=on_line)

    # -- step 6: the env file -----------------------------------------------------------------
    def make_plan(self, announce: bool = False) -> Plan:
        """The env change for the switch; with ANNOUNCE only the new media host in EXTRA_MEDIA_HOSTS
        (a week ahead, while media stays where it is: browsers keep the old policy that long)."""
        from .env.plan import make_announce_plan, make_plan
        if self.env is None:
            self.read_instance()
        self.plan = (make_announce_plan(self.env, self.settings()) if announce
                     else make_plan(self.env, self.settings(), self.measured))
        return self.plan

    def describe_write(self):
        """What Write will do, exactly, and what it risks: (the confirmation's lines, the media on disk
        not in the bucket yet when the write switches storage, else None)."""
        from .env.apply import next_backup
        from .migrate.gap import gap_before_write
        plan = self.plan
        keys = ", ".join(dict.fromkeys(c.key for c in plan.changes))
        gap = gap_before_write(plan, self.http())
        return _risk_first([f"write {plan.env.path} on {self.host.describe()}",
                            f"changing {len(plan.changes)} variable(s): {keys}",
                            f"after copying it to {next_backup(plan.env.host, plan.env.path)} (Roll back restores "
                            "it byte for byte)",
                            "atomically (a temporary file, fsync, rename), with the same mode and owner"], gap), gap

    def describe_restart(self):
        """What Restart will do, exactly, and what it risks: (the confirmation's lines, the media on
        disk not in the bucket yet when the env file stores media in S3, else None)."""
        import shlex

        from .host.restart import detect, restart_argv
        from .migrate.gap import gap_before_restart
        install = detect(self.host, self.answers.env_file)
        gap = gap_before_restart(self.host, self.answers.env_file, self.http())
        return _risk_first([f"on {self.host.describe()}: {shlex.join(restart_argv(install))}",
                            f"restarting {', '.join(install.services)} ({install.kind}): the instance is briefly "
                            "unavailable", "then waiting until web answers /health"
                            + (f" at {self.answers.instance}" if self.answers.instance else "")], gap), gap

    def apply(self) -> str | None:
        from .env.apply import apply_plan
        from .env.plan import EnvFile
        result = apply_plan(self.plan)
        self.backup = result.backup
        if result.backup:
            self.written.append((list(self.plan.changes), result.backup))
        self.env = EnvFile.read(self.host, self.answers.env_file)
        return result.backup

    def describe_rollback(self) -> list[str]:
        """What Roll back will do, exactly: for the confirmation."""
        from .env.apply import newest_backup
        backup = self.backup or newest_backup(self.host, self.answers.env_file)
        if backup is None:
            raise InputError("rollback", f"{self.answers.env_file} has no backup to restore",
                             "nothing was written by mastowizard yet")
        return [f"restore {self.answers.env_file} on {self.host.describe()} from {backup}, byte for byte, "
                "with its mode and owner", "the file it replaces is kept beside it",
                "then restart Mastodon so it reads it"]

    def rollback(self) -> str:
        from .env.apply import rollback
        from .env.plan import EnvFile
        r = rollback(self.host, self.answers.env_file, self.backup)
        self.env = EnvFile.read(self.host, self.answers.env_file)
        return r.restored_from

    # -- step 6: restart ----------------------------------------------------------------------
    def restart(self, on_line: Callable[[str], None] | None = None):
        from .host.restart import detect, restart
        install = detect(self.host, self.answers.env_file)
        return restart(self.host, install, self.instance_url(), self.http(), on_line=on_line)

    # -- step 7: the access token (OAuth, memory only) ------------------------------------
    def instance_url(self) -> str | None:
        """The instance URL the operator gave, checked (one line naming the field), or None."""
        from .validate import instance_url
        return instance_url(self.answers.instance, "instance") if self.answers.instance.strip() else None

    def start_token(self, open_browser: bool = True) -> tuple[str, bool, bool]:
        """Register the app; (the authorize URL, PKCE used, opened in a browser). OPEN_BROWSER False:
        the caller opens it (the wizard served in a browser opens it in that browser, not on this host)."""
        from .instance import oauth
        self.oauth_pending = oauth.start(self.answers.instance, self.http())
        url = self.oauth_pending.url
        return url, self.oauth_pending.pkce, open_browser and oauth.open_in_browser(url)

    def finish_token(self, code: str) -> str:
        """Exchange the pasted code; the token becomes the checklist's. Returns the granted scope."""
        from .instance import oauth
        if self.oauth_pending is None:
            raise InputError("authorization code", "no authorization is waiting for it", "press Get a token first")
        token = oauth.finish(self.oauth_pending, code, self.http())
        self.oauth_pending, self.oauth_token, self.token = None, token, token.access_token
        return token.scope

    def revoke_token(self) -> bool:
        from .instance import oauth
        if self.oauth_token is None:
            raise InputError("token", "no token was got here", "tokens pasted by hand are revoked in Development")
        ok = oauth.revoke(self.oauth_token, self.http())
        if ok:
            self.oauth_token = self.token = None
        return ok

    # -- step 7: verify -----------------------------------------------------------------------
    def verify(self, on_check: Callable[[Check], None] | None = None, only: set[str] | None = None) -> list[Check]:
        from .checklist.checks import run_checks
        from .checklist.for_instance import checklist_for
        ctx = checklist_for(self.host, self.answers.env_file, self.instance_url(), self.token, self.http())
        fresh = run_checks(ctx, on_check, only)
        if only is None:
            self.checks = fresh
        else:   # a retry: replace the rows it reran, keep the others
            rerun = {c.id: c for c in fresh}
            self.checks = [rerun.pop(c.id, c) for c in self.checks] + list(rerun.values())
        return self.checks

    # -- troubleshoot -------------------------------------------------------------------------
    def doctor(self, on_check: Callable[[Check], None] | None = None):
        """The checklist, then the web and sidekiq logs matched against known errors: (the checks,
        the checklist.diagnose.Diagnosis)."""
        from .checklist.diagnose import diagnose
        checks = self.verify(on_check)
        return checks, diagnose(self.host, self.answers.env_file, checks)

    # -- step 4: the media host ---------------------------------------------------------------
    def media_host(self) -> tuple[Check, str, str, str]:
        """The media host's check, and the configurations that serve it: nginx (with the Mastodon host's
        own resolver where it can be read), the /system/ redirect, and Caddy."""
        from .checklist.checks import check_media_host
        from .checklist.snippets import (
            caddy_media_host,
            nginx_media_host,
            nginx_system_redirect,
            resolver_of,
        )
        from .host.local import LocalHost
        s = self.settings()
        resolver = resolver_of(self.host if self.host is not None else LocalHost())
        writer = self.writer() if self.answers.access_key_id and self.secret_access_key else None
        return (check_media_host(s, self.http(), writer), nginx_media_host(s, resolver), nginx_system_redirect(s),
                caddy_media_host(s))
