"""Open the host the instance runs on: this machine, or one over SSH with its host key checked.
One way for the command line and the wizard."""

from __future__ import annotations

import os

from ..errors import InputError
from ..secrets import Secret
from .interface import Host
from .local import LocalHost
from .ssh import NoPrompt, Prompter


def open_host(ssh: str | None, *, ssh_config: str | None = None, known_hosts: str | None = None,
              accept_host_key: str | None = None, identity: str | None = None, sudo_user: str | None = None,
              sudo_password: Secret | None = None, ask_sudo_password: bool = False,
              ssh_password: Secret | None = None, key_passphrase: Secret | None = None,
              prompt: Prompter | None = None) -> Host:
    """This machine when SSH is None; else [USER@]HOST[:PORT] over SSH (~/.ssh/config, the agent and
    key files honoured), its host key checked against KNOWN_HOSTS (default ~/.ssh/known_hosts), an
    unknown one trusted only on ACCEPT_HOST_KEY or PROMPT's yes. With SUDO_USER the env file is read
    and written as that user; its password is asked from PROMPT when ASK_SUDO_PASSWORD and none is given."""
    if ssh is None:
        if sudo_user:
            raise InputError("--sudo-user", "only works with --ssh", "run the command as that user locally")
        return LocalHost()
    from .ssh import SshOptions, connect, parse_target
    from .sshhost import SshHost
    prompt = prompt or NoPrompt()
    target = parse_target(ssh, ssh_config)
    options = SshOptions(known_hosts=os.path.expanduser(known_hosts or "~/.ssh/known_hosts"),
                         accept_host_key=accept_host_key or None, password=ssh_password,
                         key_passphrase=key_passphrase,
                         identity_file=os.path.expanduser(identity) if identity else None,
                         ssh_config=ssh_config, prompt=prompt)
    client = connect(target, options)
    if sudo_user and sudo_password is None and ask_sudo_password:
        typed = prompt.secret(f"sudo password for {target.user} on {target.hostname}: ")
        sudo_password = Secret(typed) if typed else None
    return SshHost(client, target, sudo_user=sudo_user or None, sudo_password=sudo_password)

