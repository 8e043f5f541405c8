"""The Permission step: the bucket's documents, and applying them with an admin key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import InputError
from ..results import Check
from ..secrets import Secret
from .answers import save_text
from .state import State

if TYPE_CHECKING:
    from ..settings import Settings


class PermissionStep(State):
    def documents(self) -> dict:
        from ..s3.policies import documents
        return documents(self.settings())

    def save_documents(self, directory: str | None = None) -> list[str]:
        """The bucket policy, CORS and writer policy as JSON files to paste into a console, in
        ~/mastowizard/ (or DIRECTORY): absolute paths, never the current directory."""
        from ..s3.policies import to_json
        return [save_text(f"{self.answers.bucket}-{name}.json", to_json(doc), directory)
                for name, doc in self.documents().items()]

    def use_admin_key(self, key_id: str, secret: Secret) -> None:
        """The admin key pasted on the Permission step (memory only)."""
        from ..s3.credential import Credential
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
        from ..s3.bucket_setup import describe_setup
        settings = self._admin_settings(profile)
        return describe_setup(settings, self.admin, self.admin_from, self.http(), self.answers.access_key_id)

    def setup_bucket(self, profile: str | None = None) -> list[Check]:
        """Apply the mode's bucket documents with the admin key: the one held, or the AWS PROFILE's."""
        from ..s3.bucket_setup import setup_bucket
        settings = self._admin_settings(profile)
        self.bucket_setup = setup_bucket(settings, self.admin, self.http())
        return self.bucket_setup

    def admin_profiles(self) -> list[str]:
        """The AWS profiles on this machine (~/.aws), by name: a choice beside pasting an admin key."""
        from ..s3.profiles import list_profiles
        return list_profiles()

    def use_admin_profile(self, name: str) -> str:
        """Take the admin key from the AWS profile NAME (read now, held in memory, never saved)."""
        from ..s3.profiles import load
        self.admin_profile = load(name)
        self.admin, self.admin_from = self.admin_profile.credential, f"AWS profile {name}"
        return name
