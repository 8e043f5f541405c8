"""The admin credential from an AWS profile (~/.aws/credentials and ~/.aws/config, or the files
AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE name), read with botocore's own loading: static
keys, session tokens, credential_process, SSO and role profiles alike. The profile's region and
endpoint_url fill what the settings leave empty. Only the admin key comes from here: the writer key
stays in the env file, where Mastodon reads it."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from ..errors import InputError
from ..secrets import Secret
from ..settings import Settings
from .credential import Credential


@dataclass(frozen=True)
class AdminProfile:
    name: str
    credential: Credential
    region: str | None
    endpoint_url: str | None

    def fill(self, settings: Settings) -> Settings:
        """SETTINGS with the profile's endpoint where the settings have none (an S3-compatible
        provider's admin profile often carries it); the settings' own values win."""
        if self.endpoint_url and not settings.endpoint:
            settings = dataclasses.replace(settings, endpoint=self.endpoint_url.rstrip("/"))
        if self.region and not settings.region:
            settings = dataclasses.replace(settings, region=self.region)
        return settings


def files_read() -> list[str]:
    return [os.path.expanduser(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config"),
            os.path.expanduser(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials")]


def list_profiles() -> list[str]:
    """The profiles' names, as `aws configure list-profiles` shows them (none: an empty list)."""
    import botocore.session
    try:
        return sorted(botocore.session.Session().available_profiles)
    except Exception:  # noqa: BLE001 - an unreadable config lists nothing; loading one says why
        return []


def load(name: str) -> AdminProfile:
    """The profile NAME's credential, region and S3 endpoint; one line naming the profile and the
    files read when it is missing or holds no credential."""
    import botocore.exceptions
    import botocore.session
    where = " and ".join(files_read())
    try:
        session = botocore.session.Session(profile=name)
        scoped = session.get_scoped_config()
        resolver = session.get_component("credential_provider")
        for method in ("env", "container-role", "iam-role", "ec2-credentials-file", "boto-config"):
            resolver.remove(method)      # the named profile's credential, never the machine's or the environment's
        creds = session.get_credentials()
    except botocore.exceptions.ProfileNotFound:
        known = list_profiles()
        raise InputError("--admin-profile", f"no profile {name!r} in {where}",
                         f"give one of: {', '.join(known)}" if known else "add it with `aws configure --profile "
                         f"{name}`, or paste the admin key instead") from None
    except botocore.exceptions.BotoCoreError as e:
        raise InputError("--admin-profile", f"profile {name!r} could not be read ({type(e).__name__})",
                         f"check the profile in {where}") from None
    if creds is None:
        raise InputError("--admin-profile", f"profile {name!r} in {where} has no credential",
                         "give it aws_access_key_id and aws_secret_access_key (or a role or SSO setup)")
    try:
        frozen = creds.get_frozen_credentials()
    except Exception as e:  # noqa: BLE001 - SSO expired, credential_process failed, ...: one line
        raise InputError("--admin-profile", f"profile {name!r} gave no credential ({type(e).__name__})",
                         f"refresh it (e.g. `aws sso login --profile {name}`) or check {where}") from None
    if not frozen.access_key or not frozen.secret_key:
        raise InputError("--admin-profile", f"profile {name!r} in {where} has no access key",
                         "give it aws_access_key_id and aws_secret_access_key")
    token = Secret(frozen.token) if frozen.token else None
    credential = Credential(frozen.access_key, Secret(frozen.secret_key), token)
    return AdminProfile(name, credential, scoped.get("region"), _endpoint(session, scoped))


def _endpoint(session, scoped: dict) -> str | None:
    """endpoint_url for S3: the profile's `s3 =` block, its `services` section, or its global one."""
    nested = scoped.get("s3")
    if isinstance(nested, dict) and nested.get("endpoint_url"):
        return nested["endpoint_url"]
    services = scoped.get("services")
    if services:
        section = session.full_config.get("services", {}).get(services, {})
        s3 = section.get("s3") if isinstance(section, dict) else None
        if isinstance(s3, dict) and s3.get("endpoint_url"):
            return s3["endpoint_url"]
    return scoped.get("endpoint_url")
