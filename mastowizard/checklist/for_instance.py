"""The live checklist of an instance, as its env file configures it: one way for `check`, `doctor`
and the wizard's Verify and Troubleshoot to build what the checks run on."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from ..env.plan import EnvFile
from ..errors import InputError
from ..host.interface import Host
from ..net import HttpOptions
from ..s3.credential import Credential
from ..secrets import Secret
from ..settings import from_env
from .context import NOT_ENABLED, NOT_ENABLED_FIX, Context
from .old_urls import sample_local_media


def checklist_for(host: Host, env_path: str, instance: str | None, token: Secret | None, http: HttpOptions, *,
                  env: EnvFile | None = None, environ: Mapping[str, str] | None = None,
                  poll_timeout: float = 60.0) -> Context:
    """What the checklist runs on: the settings the env file at ENV_PATH on HOST gives (as Mastodon
    reads it), its writer key (or, where the file has none, AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY from ENVIRON), the instance and its token, and a sample of media on disk.
    ENV is the file when the caller has read it already (the CLI reads it before asking for the token);
    else it is read here. A file that does not store media in S3, that cannot be parsed, or has a bad
    value is said by the settings check, not raised."""
    settings, error, fix, notes = None, None, "", []
    try:
        values = (env or EnvFile.read(host, env_path)).doc.values()
        reading = from_env(values)
        notes = list(reading.notes)
        settings = reading.settings
        if not reading.enabled:
            error, fix = NOT_ENABLED, NOT_ENABLED_FIX
    except InputError as e:
        error, fix = f"{e.field}: {e.message}", e.fix
    return Context(settings, _writer(settings, environ or {}), instance, token, http,
                   settings_error=error, settings_fix=fix, notes=notes,
                   old_urls=sample_local_media(host, posixpath.dirname(env_path)), poll_timeout=poll_timeout)


def _writer(settings, environ: Mapping[str, str]) -> Credential | None:
    if settings is None:
        return None
    key_id = settings.access_key_id or environ.get("AWS_ACCESS_KEY_ID")
    secret = settings.secret_access_key or (Secret(environ["AWS_SECRET_ACCESS_KEY"])
                                            if environ.get("AWS_SECRET_ACCESS_KEY") else None)
    return Credential(key_id, secret) if key_id and secret else None
