"""The Target step: connect to the instance's host and read what its env file says now."""

from __future__ import annotations

import posixpath

from ..errors import InputError
from .state import State


class TargetStep(State):
    def connect(self, prompt=None) -> str:
        from ..host.connect import open_host
        a = self.answers
        remote = a.target == "ssh"
        self.host = open_host(a.ssh if remote else None, known_hosts=a.known_hosts, accept_host_key=a.accept_host_key,
                              identity=a.identity, sudo_user=a.sudo_user if remote else None,
                              sudo_password=self.sudo_password, ssh_password=self.ssh_password,
                              key_passphrase=self.key_passphrase, prompt=prompt)
        return self.host.describe()

    def read_instance(self) -> dict:
        """What the env file says now; prefills the answers from an instance already on S3."""
        from ..env.plan import EnvFile, describe
        from ..settings import from_env
        self.env = EnvFile.read(self.host, self.answers.env_file)
        self.found = describe(self.env)
        from ..checklist.old_urls import sample_local_media
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
        from ..host.restart import detect
        try:
            return detect(self.host, self.answers.env_file).describe()
        except Exception as e:  # noqa: BLE001 - say what is known
            return f"not detected ({e})"

    def _media_size(self, live: str) -> int | None:
        """Bytes under public/system (du), or None where it cannot be measured."""
        from ..host.disk import disk_usage
        return disk_usage(self.host, posixpath.join(live, "public", "system"), timeout=120)
