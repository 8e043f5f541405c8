"""boto3 clients built from Settings, the way Mastodon's aws-sdk-s3 would address the bucket."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from functools import partial
from urllib.parse import quote, urlsplit, urlunsplit

from ..net import HttpOptions
from ..secrets import scrub
from ..settings import Settings
from .credential import Credential

# boto3 is imported where the first client is made (~0.25 s): `check` starts the instance's requests meanwhile.
_SESSION_LOCK = threading.Lock()
_SESSION: list = []


def _session():
    """The process's boto3 session, blind to ~/.aws and AWS_* settings (everything is passed in)."""
    if not _SESSION:
        import boto3
        import botocore.session
        core = botocore.session.Session()
        core.set_config_variable("ignore_configured_endpoint_urls", True)
        core.set_config_variable("config_file", "/dev/null")
        core.set_config_variable("credentials_file", "/dev/null")
        _SESSION.append(boto3.session.Session(botocore_session=core))
    return _SESSION[0]


def make_client(settings: Settings, credential: Credential, timeout: float = 10.0, http: HttpOptions | None = None,
                signature_version: str = "s3v4"):
    """A signed S3 client. Ignores ~/.aws config and AWS_* variables except what we pass.
    With --resolve pins, plain-http endpoints (self-hosted, the lab) are reached at the pinned
    address, virtual-host names included, while the request is signed for the real name."""
    prov = settings.provider_entry
    when_required = prov.checksum_when_required or settings.provider != "aws"
    from botocore.config import Config
    config = Config(
        region_name=settings.region,
        signature_version=signature_version,
        s3={"addressing_style": settings.addressing},
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=min(timeout, 5.0),
        read_timeout=timeout,
        request_checksum_calculation="when_required" if when_required else "when_supported",
        response_checksum_validation="when_required" if when_required else "when_supported",
        user_agent_extra="mastowizard",
    )
    with _SESSION_LOCK:           # one session: its service model is loaded once (a client then takes ~4 ms,
        session = _session()      # not ~70); creating clients from it is not thread-safe, hence the lock
        client = session.client(
            "s3",
            endpoint_url=settings.endpoint,
            aws_access_key_id=credential.access_key_id,
            aws_secret_access_key=credential.secret_access_key.reveal(),
            aws_session_token=credential.session_token.reveal() if credential.session_token else None,
            config=config,
        )
    if http and http.resolve:
        client.meta.events.register("before-send.s3", partial(_pin, http))
    return client


def caller_arn(settings: Settings, credential: Credential) -> str | None:
    """Whose key CREDENTIAL is, as AWS STS says (GetCallerIdentity), from the same blind session as
    make_client; None when STS does not answer."""
    from botocore.config import Config
    with _SESSION_LOCK:
        sts = _session().client(
            "sts", region_name=settings.region, aws_access_key_id=credential.access_key_id,
            aws_secret_access_key=credential.secret_access_key.reveal(),
            aws_session_token=credential.session_token.reveal() if credential.session_token else None,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=10))
    try:
        return sts.get_caller_identity().get("Arn")
    except Exception:  # noqa: BLE001 - not answered: nothing to say
        return None


def _pin(http: HttpOptions, request, **_) -> None:
    parts = urlsplit(request.url)
    if parts.scheme != "http" or not parts.hostname:
        return None  # https keeps the name for SNI and certificate checks: pin it in /etc/hosts instead
    addr = http.pin_for(parts.hostname, parts.port or 80)
    if addr:
        request.headers["Host"] = parts.netloc
        request.url = urlunsplit(parts._replace(netloc=f"{addr}:{parts.port or 80}"))
    return None


def bucket_url(settings: Settings, key: str = "") -> str:
    """The API URL of the bucket (or of a key in it) with the settings' addressing."""
    path = quote(key, safe="/~")
    if settings.endpoint:
        parts = urlsplit(settings.endpoint)
        if settings.addressing == "virtual":
            return f"{parts.scheme}://{settings.bucket}.{parts.netloc}/{path}"
        return f"{settings.endpoint}/{settings.bucket}/{path}"
    return f"https://{settings.bucket}.s3.{settings.region}.amazonaws.com/{path}"


@dataclass
class S3Error:
    """A boto error reduced to what the probes and the operator need."""

    code: str
    message: str
    status: int | None
    headers: dict

    @property
    def region_hint(self) -> str | None:
        return self.headers.get("x-amz-bucket-region")


def explain(exc: Exception, secrets: list | None = None) -> S3Error:
    if "botocore.exceptions" not in sys.modules:      # no client was made: not one of botocore's errors
        return S3Error(type(exc).__name__, scrub(str(exc), secrets or []), None, {})
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        status = meta.get("HTTPStatusCode")
        code = str(err.get("Code") or status or "Error")
        # HEAD responses have no body: name the status the way S3 would.
        code = {"403": "AccessDenied", "404": "NotFound", "301": "PermanentRedirect",
                "400": "BadRequest"}.get(code, code)
        message = str(err.get("Message") or "")
        headers = {k.lower(): v for k, v in (meta.get("HTTPHeaders") or {}).items()}
        if "html" in headers.get("content-type", "").lower():
            # A web server, proxy or captive portal answered, not an S3 API.
            code, message = "NotAnS3Endpoint", f"the server answered an HTML page (HTTP {status})"
        return S3Error(code, scrub(message, secrets or []), status, headers)
    if isinstance(exc, EndpointConnectionError):
        return S3Error("EndpointConnectionError", "cannot connect to the endpoint", None, {})
    if isinstance(exc, BotoCoreError):
        return S3Error(type(exc).__name__, scrub(str(exc), secrets or []), None, {})
    return S3Error(type(exc).__name__, scrub(str(exc), secrets or []), None, {})
