"""The lab as the wizard's step tests use it: the answers an operator gives for a lab bucket (on this
machine, or over SSH with sudo to the instance's user), and a Session brought to one step by the
engine as the steps before it would have left it, each call the screens make checked on the way."""

from __future__ import annotations

from helpers.oauth_browser import authorize
from mastowizard.results import verdict
from mastowizard.secrets import Secret
from mastowizard.session import Answers, Session
from mastowizard_lab import sshd
from screens import steps

INSTANCE_URL = f"http://127.0.0.1:{sshd.MASTODON_PORT}"


def kind(bucket) -> str:
    """The provider an operator picks for the lab's server: Ceph for RGW, Other for the rest."""
    return "ceph" if bucket.server.name == "rgw" else "other"


def media_host(bucket) -> str:
    """S3_ALIAS_HOST of BUCKET: its nginx media host, with the lab's https port."""
    return bucket.media_https_base.split("://")[1]


def lab_answers(env, lab_info, where: str, tmp_path, **more) -> Answers:
    """What the wizard is launched with: the env file, the lab's --resolve pins and CA; for WHERE
    "ssh" the known host and the key too (the SSH target itself is typed, or set by over_ssh)."""
    answers = Answers(env_file=str(env), resolve=lab_info.resolve(), ca_bundle=lab_info.ca_pem, **more)
    if where == "ssh":
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(sshd.known_hosts_line())
        answers.known_hosts, answers.identity = str(known_hosts), str(sshd.client_key())
    return answers


def over_ssh(session: Session) -> Session:
    """The Target step's answers for the lab's admin over SSH, sudo to the instance's user."""
    a = session.answers
    a.target, a.ssh, a.sudo_user = "ssh", f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}", sshd.MASTODON_USER
    session.sudo_password = Secret(sshd.ADMIN_PASSWORD)
    return session


def at(step: str, session: Session, bucket, *, probe: bool = False, copy: bool = False) -> Session:
    """SESSION as the steps before STEP leave it, done with the engine: the instance read, the
    provider's answers and writer key (PROBE: the bucket tested too, as Review's plan uses what it
    measured), the bucket policy applied with a pasted admin key, (COPY: the media on disk copied and
    verified), the env file written, Mastodon restarted, a token got the OAuth way and the checklist
    run. Each call's failure names the step it stands for."""
    done = steps.ids()[:steps.index(step)]
    srv = bucket.server
    a = session.answers
    if "target" in done:
        session.connect()
        session.read_instance()
    if "provider" in done:
        a.provider, a.bucket, a.endpoint, a.region = kind(bucket), bucket.name, srv.endpoint, srv.region
        a.addressing, a.access_key_id, a.alias_host = "path", srv.writer_access_key, media_host(bucket)
        session.secret_access_key = Secret(srv.writer_secret_key)
        if probe:
            session.probe()
    if "permission" in done:
        a.permission = "policy"
        session.use_admin_key(srv.admin_access_key, Secret(srv.admin_secret_key))
        failed = [c.to_dict() for c in session.setup_bucket() if c.status == "fail"]
        assert not failed, f"Permission (setup_bucket) failed: {failed}"
    if "copymedia" in done and copy:
        report = session.copy_media()
        result, verification = report
        assert report.complete and verification is not None, \
            f"Copy media (copy_media) is not complete: {result.failed[:3]} {result.aborted} " \
            f"{verification and verification.to_json()}"
    if "review" in done:
        session.make_plan()
        assert session.apply(), "Review (apply) made no backup: nothing was written"
    if "restart" in done:
        a.instance = INSTANCE_URL
        report = session.restart()
        assert report.ok, f"Restart (restart) did not come back healthy: {[c.to_dict() for c in report.checks]}"
    if "verify" in done:
        url, _, _ = session.start_token(open_browser=False)
        session.finish_token(authorize(url))
        checks = session.verify()
        assert verdict(checks).all_passed, f"Verify (verify): {[c.to_dict() for c in checks if c.status != 'pass']}"
    return session
