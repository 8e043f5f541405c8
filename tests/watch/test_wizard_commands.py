"""The Summary's watch commands are pasted by the admin at their own login on the instance's host:
as the env file's owner when that login is someone else (over SSH with sudo, the login user, not the
sudo user the wizard reads files as), and without a CA bundle path that is on the admin's machine."""

import shlex

from mastowizard.session import Answers, Session


class Host:
    """The instance's host over SSH: admin (uid 1001) logs in, files are read as mastodon (991)."""

    def __init__(self, login_uid: int):
        self._login = login_uid

    def login_uid(self) -> int:
        return self._login

    def user(self) -> tuple[int, str]:
        return 991, "mastodon"                       # the sudo user

    def user_name(self, uid: int) -> str:
        return {991: "mastodon", 1001: "admin"}[uid]


def commands(login_uid: int, **answers):
    s = Session(Answers(env_file="/home/mastodon/live/.env.production", instance="https://m.example", **answers))
    s.host = Host(login_uid)
    return s.watch_commands("/home/mastodon/live/mastowizard-baseline.json", "mastodon")


def test_an_admin_who_sudoes_to_the_instance_user_runs_the_watch_as_that_user():
    (now, install), notes = commands(1001, target="ssh", ca_bundle="/home/me/lab-ca.pem")
    assert shlex.split(now)[:5] == ["sudo", "-u", "mastodon", "mastowizard", "watch"]
    assert shlex.split(install)[:3] == ["sudo", "mastowizard", "watch"] and install.endswith(" --install")
    assert "--ca-bundle" not in now + install
    assert notes == ["--ca-bundle /home/me/lab-ca.pem is a file on this machine: copy it to the host and add "
                     "--ca-bundle with its path there"]


def test_the_instance_user_itself_needs_no_sudo_for_the_first_command():
    (now, _), notes = commands(991, ca_bundle="/etc/ssl/lab-ca.pem")
    assert shlex.split(now)[:2] == ["mastowizard", "watch"] and "--ca-bundle /etc/ssl/lab-ca.pem" in now
    assert notes == []
