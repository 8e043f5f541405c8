"""The wizard's session state: the answers, the secrets held in memory (never saved), and what the
steps found. The steps' behaviour is in the modules beside this one, one per step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import InputError
from ..results import Check
from ..secrets import Secret
from .answers import Answers, save_text

if TYPE_CHECKING:     # loaded when a step needs them (a fast first screen)
    from ..env.plan import EnvFile, Plan
    from ..host.interface import Host
    from ..instance.oauth import Authorization, Token
    from ..migrate.inventory import Inventory
    from ..s3.credential import Credential
    from ..s3.profiles import AdminProfile
    from ..settings import Settings


@dataclass
class State:
    answers: Answers = field(default_factory=Answers)
    secret_access_key: Secret | None = None
    admin: Credential | None = None          # the admin key, never saved
    admin_profile: AdminProfile | None = None  # the AWS profile the admin key came from, if one
    admin_from: str = "given at launch"   # where the admin key came from, said before it changes a bucket
    token: Secret | None = None
    sudo_password: Secret | None = None
    ssh_password: Secret | None = None    # the SSH login's password, where the login needs one
    key_passphrase: Secret | None = None  # the SSH key's passphrase, where the key has one
    host: Host | None = None
    found: dict | None = None
    env: EnvFile | None = None
    plan: Plan | None = None
    measured: dict = field(default_factory=dict)   # what the jobs checks asked the env file for (s3.jobs.measured)
    backup: str | None = None
    checks: list[Check] = field(default_factory=list)
    inventory: Inventory | None = None    # the media on disk, or in the old bucket (a move between buckets)
    suspect: bool = False                 # the old bucket is mostly private: private_media must be chosen
    private_media: str | None = None      # keep or public: the operator's choice for private attachments
    copies: list = field(default_factory=list)     # migrate.job.CopyReport of every copy of this run, in order
    to_disk_runs: list = field(default_factory=list)   # migrate.to_disk.ToDiskResult of every copy back to disk
    written: list = field(default_factory=list)    # (the changes written, the backup) of every write of this run
    bucket_setup: list[Check] = field(default_factory=list)   # what setup_bucket changed (for the summary)
    oauth_pending: Authorization | None = None     # waiting for the pasted code
    oauth_token: Token | None = None      # got here (memory only), to revoke after

    @property
    def back_to_disk(self) -> bool:
        """The operator chose to bring the media back from the env file's bucket to disk."""
        return self.answers.move == "disk"

    @property
    def copied(self):
        """The CopyReport (copy, verification) of the last copy of this run, or None."""
        return self.copies[-1] if self.copies else None

    def secrets(self) -> list:
        """Every secret this session holds: what no screen, log or report may show."""
        return [self.secret_access_key, self.token, getattr(self.admin, "secret_access_key", None),
                self.sudo_password, self.ssh_password, self.key_passphrase]

    def settings(self) -> Settings:
        from ..settings import Settings
        a = self.answers
        s = Settings.build(bucket=a.bucket, provider=a.provider, region=a.region or None, endpoint=a.endpoint or None,
                           addressing=a.addressing or None, permission=a.permission or None,
                           alias_host=a.alias_host or None, protocol=a.protocol or None,
                           key_prefix=a.key_prefix or None)
        if a.access_key_id and self.secret_access_key:
            s = s.with_credentials(a.access_key_id, self.secret_access_key)
        return s

    def http(self):
        from ..net import HttpOptions
        return HttpOptions.build(self.answers.resolve, self.answers.ca_bundle or None)

    def writer(self):
        from ..s3.credential import Credential
        if not (self.answers.access_key_id and self.secret_access_key):
            raise InputError("writer credential", "access key id and secret are both needed", "fill in both fields")
        return Credential(self.answers.access_key_id, self.secret_access_key)

    def instance_url(self) -> str | None:
        """The instance URL the operator gave, checked (one line naming the field), or None."""
        from ..validate import instance_url
        return instance_url(self.answers.instance, "instance") if self.answers.instance.strip() else None

    def save_text(self, name: str, text: str, directory: str | None = None) -> str:
        """TEXT as the file NAME in ~/mastowizard/ (or DIRECTORY), whole: answers.save_text."""
        return save_text(name, text, directory)
