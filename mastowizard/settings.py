"""One settings model for a Mastodon instance's object storage, mapped both ways to the
variables Mastodon reads (config/initializers/paperclip.rb), with Mastodon's semantics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from . import validate
from .errors import InputError
from .providers import get_provider, guess_provider
from .secrets import Secret

ADDRESSING = ("path", "virtual")
PERMISSIONS = ("acl", "policy")
PROTOCOLS = ("https", "http")

# Every variable Mastodon reads for S3 storage. A plan touches these and nothing else.
S3_VARIABLES = (
    "S3_ENABLED", "S3_BUCKET", "S3_REGION", "S3_ENDPOINT", "S3_OVERRIDE_PATH_STYLE",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_PROTOCOL", "S3_HOSTNAME",
    "S3_ALIAS_HOST", "S3_CLOUDFRONT_HOST", "S3_PERMISSION", "S3_SIGNATURE_VERSION",
    "S3_OPEN_TIMEOUT", "S3_READ_TIMEOUT", "S3_RETRY_LIMIT", "S3_FORCE_SINGLE_REQUEST", "S3_ENABLE_CHECKSUM_MODE",
    "S3_STORAGE_CLASS", "S3_MULTIPART_THRESHOLD", "S3_BATCH_DELETE_LIMIT", "S3_BATCH_DELETE_RETRY",
    "S3_KEY_PREFIX", "EXTRA_MEDIA_HOSTS",
    "AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION",
)
# The Ruby SDK's 2025 default (aws-sdk-core 3.216+) sends CRC checksums on every upload, which B2,
# R2, older MinIO and others rejected; Mastodon no longer pins an older SDK (#36719).
CHECKSUM_VARIABLES = ("AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION")
CHECKSUM_REASON = ("AWS_REQUEST_CHECKSUM_CALCULATION and AWS_RESPONSE_CHECKSUM_VALIDATION=WHEN_REQUIRED: the AWS SDK "
                   "Mastodon uses sends checksums by default since 2025 (aws-sdk-core 3.216), which S3-compatible "
                   "providers such as B2 and R2 rejected (mastodon#33624); WHEN_REQUIRED sends them only where "
                   "the S3 API requires them")
# Provider-specific extras a provider entry may ask for.
EXTRA_VARIABLES = frozenset({
    "S3_FORCE_SINGLE_REQUEST", "S3_ENABLE_CHECKSUM_MODE", "S3_STORAGE_CLASS",
    "S3_BATCH_DELETE_LIMIT", "S3_BATCH_DELETE_RETRY", "S3_MULTIPART_THRESHOLD",
    "S3_OPEN_TIMEOUT", "S3_READ_TIMEOUT", "S3_RETRY_LIMIT", "S3_SIGNATURE_VERSION",
})

ACL_FOR_MODE = {"acl": "public-read", "policy": ""}
# What Mastodon sends with every upload (config/initializers/paperclip.rb): the probes, the copy and
# its verification write and expect exactly this.
CACHE_CONTROL = "public, max-age=315576000, immutable"


@dataclass(frozen=True)
class Settings:
    """What the operator chose. Validated on construction through `Settings.build`."""

    bucket: str
    provider: str = "aws"
    region: str = "us-east-1"
    endpoint: str | None = None
    addressing: str = "virtual"
    permission: str = "acl"
    alias_host: str | None = None
    protocol: str = "https"
    key_prefix: str | None = None
    access_key_id: str | None = None
    secret_access_key: Secret | None = field(default=None, repr=False)
    extra_env: Mapping[str, str] = field(default_factory=dict)
    # Only when read from an env file: the raw S3_PERMISSION (e.g. "private") and S3_HOSTNAME.
    acl_override: str | None = None
    hostname: str | None = None

    # -- construction -------------------------------------------------------------------
    @classmethod
    def build(cls, *, bucket: str | None, provider: str | None = None, region: str | None = None,
              endpoint: str | None = None, addressing: str | None = None, permission: str | None = None,
              alias_host: str | None = None, protocol: str | None = None, key_prefix: str | None = None,
              access_key_id: str | None = None, secret_access_key: Secret | str | None = None,
              placeholders: Mapping[str, str] | None = None) -> Settings:
        """Validate every field and fill what the provider catalog knows. Raises InputError."""
        prov = get_provider(provider or ("other" if endpoint else "aws"))
        reg = validate.region(region or prov.default_region or "us-east-1")
        if endpoint:
            ep = validate.endpoint_url(endpoint)
        elif prov.endpoint_pattern:
            ep = validate.endpoint_url(prov.endpoint_for(reg, **dict(placeholders or {})))
        else:
            ep = None
        if prov.id == "aws" and ep is None:
            addr = validate.choice(addressing or "virtual", "addressing", ADDRESSING)
            if addr == "path":
                raise InputError("addressing", "AWS without an endpoint always uses virtual-host addressing",
                                 "drop --addressing path, or give --endpoint https://s3.REGION.amazonaws.com")
        else:
            addr = validate.choice(addressing or prov.default_addressing or "path", "addressing", ADDRESSING)
            if addr not in prov.addressing and prov.id != "other":
                raise InputError("addressing", f"{prov.name} does not support {addr}-style addressing",
                                 f"use --addressing {prov.default_addressing}")
        perm = validate.choice(permission or prov.default_permission, "permission", PERMISSIONS)
        if perm == "acl" and prov.object_acls in ("no", "ignored", "bucket-level"):
            raise InputError("permission", f"{prov.name} does not honour object ACLs ({prov.object_acls})",
                             "use --permission policy")
        alias = validate.host_name(alias_host, field="alias-host") if alias_host else None
        proto = validate.choice(protocol or "https", "protocol", PROTOCOLS)
        secret = secret_access_key
        if isinstance(secret, str):
            secret = Secret(validate.secret_value(secret))
        return cls(
            bucket=validate.bucket_name(bucket), provider=prov.id, region=reg, endpoint=ep,
            addressing=addr, permission=perm, alias_host=alias, protocol=proto,
            key_prefix=validate.key_prefix(key_prefix),
            access_key_id=validate.access_key_id(access_key_id) if access_key_id else None,
            secret_access_key=secret,
            extra_env={k: v for k, v in prov.mastodon_env.items() if k in EXTRA_VARIABLES},
        )

    def with_credentials(self, access_key_id: str, secret_access_key: Secret | str) -> Settings:
        secret = secret_access_key if isinstance(secret_access_key, Secret) else Secret(
            validate.secret_value(secret_access_key))
        return replace(self, access_key_id=validate.access_key_id(access_key_id), secret_access_key=secret)

    # -- what Mastodon does with it -----------------------------------------------------
    @property
    def acl(self) -> str:
        """The canned ACL Mastodon sends with every upload ("" = no ACL header)."""
        return self.acl_override if self.acl_override is not None else ACL_FOR_MODE[self.permission]

    @property
    def provider_entry(self):
        return get_provider(self.provider)

    @property
    def endpoint_host(self) -> str | None:
        return urlsplit(self.endpoint).netloc if self.endpoint else None

    @property
    def url_hostname(self) -> str:
        """S3_HOSTNAME as Mastodon would use it for URLs when there is no alias host."""
        if self.hostname:
            return self.hostname
        return self.endpoint_host or f"s3-{self.region}.amazonaws.com"

    def key(self, key: str) -> str:
        """A bucket key with S3_KEY_PREFIX applied, as Mastodon stores it."""
        return f"{self.key_prefix}/{key}" if self.key_prefix else key

    def public_url(self, key: str) -> str:
        """The URL Mastodon generates for a stored key (already prefixed)."""
        if self.alias_host:
            return f"{self.protocol}://{self.alias_host}/{key}"
        return f"{self.protocol}://{self.url_hostname}/{self.bucket}/{key}"

    @property
    def planned_acl(self) -> str:
        """S3_PERMISSION as the plan writes it: an env file's own value (e.g. private) is kept, except
        where the provider takes no object ACL of that kind (R2, B2): there it must be empty."""
        if self.acl_override is not None:
            try:
                if get_provider(self.provider).object_acls in ("no", "bucket-level"):
                    return ""
            except InputError:
                pass
        return self.acl

    @property
    def needs_checksum_when_required(self) -> bool:
        """Every provider but AWS: the SDK's default checksums are AWS's, not every S3's."""
        try:
            return get_provider(self.provider).checksum_when_required
        except InputError:      # not in the catalog: S3-compatible, not AWS
            return self.provider != "aws"

    def to_env(self, include_secrets: bool = True) -> dict[str, str | None]:
        """The values to write. None means: remove the variable (it would mislead Mastodon)."""
        env: dict[str, str | None] = {
            "S3_ENABLED": "true",
            "S3_BUCKET": self.bucket,
            "S3_REGION": self.region,
            "S3_ENDPOINT": self.endpoint,
            "S3_OVERRIDE_PATH_STYLE": "true" if self.endpoint and self.addressing == "virtual" else None,
            "S3_PROTOCOL": self.protocol,
            # Used for URLs only when no alias host is set; keep it right for that case.
            "S3_HOSTNAME": self.endpoint_host if self.endpoint else None,
            "S3_ALIAS_HOST": self.alias_host,
            "S3_CLOUDFRONT_HOST": None,  # outdated name; S3_ALIAS_HOST replaces it
            "S3_PERMISSION": self.planned_acl,
            "S3_KEY_PREFIX": self.key_prefix,
        }
        if self.needs_checksum_when_required:
            env.update(dict.fromkeys(CHECKSUM_VARIABLES, "WHEN_REQUIRED"))
        env.update(self.extra_env)
        if include_secrets:
            env["AWS_ACCESS_KEY_ID"] = self.access_key_id
            env["AWS_SECRET_ACCESS_KEY"] = self.secret_access_key.reveal() if self.secret_access_key else None
        return env


@dataclass(frozen=True)
class EnvReading:
    """What Mastodon would do with an env file's S3 variables."""

    enabled: bool
    settings: Settings | None
    notes: tuple[str, ...] = ()


def from_env(env: Mapping[str, str]) -> EnvReading:
    """Read settings from env values exactly as Mastodon's paperclip initializer does.

    Mastodon tests presence (`ENV.key?`), not emptiness, for S3_ENDPOINT and the alias host,
    and uses fetch-with-default for region, protocol, hostname and permission.
    """
    notes: list[str] = []
    enabled = env.get("S3_ENABLED") == "true"
    if not enabled:
        if env.get("S3_ENABLED", "").strip().lower() in ("true", "yes", "1", "on"):
            notes.append(f"S3_ENABLED={env['S3_ENABLED']!r} is not exactly 'true': Mastodon keeps media on local disk")
        return EnvReading(False, None, tuple(notes))
    region = env.get("S3_REGION", "us-east-1")
    endpoint = env.get("S3_ENDPOINT") if "S3_ENDPOINT" in env else None
    if endpoint is not None and not endpoint.strip():
        raise InputError("S3_ENDPOINT", "is set but empty: Mastodon would use an empty endpoint",
                         "remove the S3_ENDPOINT line for AWS, or set the provider's endpoint URL")
    path_style = endpoint is not None and env.get("S3_OVERRIDE_PATH_STYLE") != "true"
    if "S3_ALIAS_HOST" in env:
        alias = env["S3_ALIAS_HOST"]
        if "S3_CLOUDFRONT_HOST" in env:
            notes.append("S3_CLOUDFRONT_HOST is ignored because S3_ALIAS_HOST is set: remove it")
    else:
        alias = env.get("S3_CLOUDFRONT_HOST")
        if alias is not None:
            notes.append("S3_CLOUDFRONT_HOST is the old name: rename it to S3_ALIAS_HOST")
    if alias is not None and not alias.strip():
        raise InputError("S3_ALIAS_HOST", "is set but empty: media URLs would have no host",
                         "set the media host name, or remove the line")
    raw_acl = env.get("S3_PERMISSION", "public-read")
    permission = "acl" if raw_acl == "public-read" else "policy"
    if endpoint is not None and alias is None and "S3_HOSTNAME" not in env:
        notes.append("S3_ENDPOINT is set without S3_ALIAS_HOST or S3_HOSTNAME: "
                     f"media URLs would point at s3-{region}.amazonaws.com")
    prov = guess_provider(endpoint)
    if raw_acl not in ("public-read", ""):
        if prov.object_acls in ("no", "bucket-level"):
            notes.append(f"S3_PERMISSION={raw_acl!r}: {prov.name} does not take that object ACL (uploads may be "
                         "refused): S3_PERMISSION must be empty there (`mastowizard plan` empties it)")
        else:
            notes.append(f"S3_PERMISSION={raw_acl!r}: uploads get that ACL, so media is public only through a "
                         "bucket policy")
    secret = env.get("AWS_SECRET_ACCESS_KEY")
    try:
        s = Settings(
            bucket=validate.bucket_name(env.get("S3_BUCKET"), field="S3_BUCKET"),
            provider=prov.id,
            region=validate.region(region, field="S3_REGION"),
            endpoint=validate.endpoint_url(endpoint, field="S3_ENDPOINT") if endpoint is not None else None,
            addressing="path" if path_style else "virtual",
            permission=permission,
            alias_host=validate.host_name(alias, field="S3_ALIAS_HOST") if alias is not None else None,
            protocol=validate.choice(env.get("S3_PROTOCOL", "https"), "S3_PROTOCOL", PROTOCOLS),
            key_prefix=validate.key_prefix(env.get("S3_KEY_PREFIX"), field="S3_KEY_PREFIX"),
            access_key_id=(env.get("AWS_ACCESS_KEY_ID") or "").strip() or None,
            secret_access_key=Secret(secret) if secret else None,
            extra_env={k: env[k] for k in EXTRA_VARIABLES if k in env},
            acl_override=raw_acl if raw_acl not in ("public-read", "") else None,
            hostname=env.get("S3_HOSTNAME"),
        )
    except InputError as e:
        raise InputError(e.field, e.message, e.fix or f"fix {e.field} in the env file") from None
    return EnvReading(True, s, tuple(notes))
