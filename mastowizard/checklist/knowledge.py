"""What is observed, its cause and its fix: for failing checks, and for the errors Mastodon's web and
sidekiq processes log when object storage is wrong. Each entry has a section in
docs/troubleshooting.md (anchor = its id)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..results import Check

DOC = "docs/troubleshooting.md"


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    cause: str
    fix: str
    patterns: tuple[str, ...] = ()      # regexes matched against error codes, details and log lines
    checks: tuple[str, ...] = ()        # check ids this entry explains when they fail

    @property
    def link(self) -> str:
        return f"{DOC}#{self.id}"

    def matches(self, text: str) -> bool:
        return any(re.search(p, text, re.IGNORECASE) for p in self.patterns)


ENTRIES = (
    Entry("acl-not-supported", "AccessControlListNotSupported",
          "The bucket has ACLs disabled (object ownership BucketOwnerEnforced, AWS's default for new buckets) "
          "and Mastodon sends S3_PERMISSION=public-read with every upload, so every upload fails.",
          "Set object ownership to ObjectWriter and lift BlockPublicAcls/IgnorePublicAcls "
          "(`mastowizard setup-bucket`), or switch to policy mode (S3_PERMISSION empty plus a bucket policy).",
          (r"AccessControlListNotSupported", r"The bucket does not allow ACLs"), ("writer.write", "writer.acl")),
    Entry("acl-access-denied", "AccessDenied when uploading with a public ACL",
          "Block Public Access (BlockPublicAcls) refuses public ACLs, or the credential lacks s3:PutObjectAcl.",
          "Lift BlockPublicAcls and IgnorePublicAcls for ACL mode, and grant s3:PutObjectAcl "
          "(`mastowizard policy` prints the writer policy).",
          (r"AccessDenied.*(acl|PutObjectAcl)", r"Aws::S3::Errors::AccessDenied"), ("bucket.public_access_block",)),
    Entry("signature", "SignatureDoesNotMatch",
          "The secret key does not belong to the access key id: a typo, quotes or spaces around it, or a rotated key.",
          "Copy AWS_SECRET_ACCESS_KEY again; `mastowizard show` shows its last 4 characters.",
          (r"SignatureDoesNotMatch",), ("writer.credentials",)),
    Entry("access-key", "InvalidAccessKeyId",
          "The provider does not know AWS_ACCESS_KEY_ID (deleted key, other account, or a key of another region "
          "on providers with regional keys).",
          "Create or copy the key again in the provider's console.",
          (r"InvalidAccessKeyId", r"Aws::S3::Errors::InvalidAccessKeyId"), ()),
    Entry("wrong-region", "PermanentRedirect / AuthorizationHeaderMalformed",
          "S3_REGION (and, for S3-compatible providers, S3_ENDPOINT) is not the bucket's region.",
          "Set S3_REGION to the bucket's region (the error or `mastowizard probe` names it) and the matching endpoint.",
          (r"PermanentRedirect", r"AuthorizationHeaderMalformed", r"IllegalLocationConstraint",
           r"region .* is wrong"), ()),
    Entry("no-such-bucket", "NoSuchBucket",
          "S3_BUCKET does not exist at S3_ENDPOINT (a typo, or the endpoint of another region).",
          "Create the bucket, or fix S3_BUCKET / S3_ENDPOINT.",
          (r"NoSuchBucket", r"does not exist at this endpoint"), ()),
    Entry("batch-delete", "Batch deletes fail: the bucket keeps growing",
          "Mastodon removes media in batches with DeleteObjects (tootctl media remove, account deletions, the "
          "scheduled media cleanup): S3_BATCH_DELETE_LIMIT keys a call (1000), S3_BATCH_DELETE_RETRY retries (3), "
          "and no fallback to single deletes. A provider that takes fewer keys a call, or answers slower than "
          "S3_READ_TIMEOUT (before Mastodon 4.5.3; 120 s since), fails every batch. Google Cloud Storage's XML API "
          "has no DeleteObjects; a writer without s3:DeleteObject gets AccessDenied for each key.",
          "Set S3_BATCH_DELETE_LIMIT to what the provider takes in time (`mastowizard check` measures it and names "
          "the value), and grant the writer s3:DeleteObject. On a provider without DeleteObjects, removed media "
          "stays in the bucket: choose one that has it.",
          (r"DeleteObjects", r"Aws::S3::Errors::MalformedXML"), ("jobs.batch_delete",)),
    Entry("timeouts", "Net::ReadTimeout: the provider is slower than Mastodon waits",
          "Mastodon's S3 client waits S3_OPEN_TIMEOUT (5 s) to connect and S3_READ_TIMEOUT (5 s) for each answer, "
          "and retries S3_RETRY_LIMIT times (0 since 4.3). A slow or distant provider makes uploads fail (500 on "
          "POST /api/v2/media) and remote media stay \"Not available\".",
          "Raise S3_READ_TIMEOUT (and S3_OPEN_TIMEOUT) to about three times the slowest answer `mastowizard check` "
          "measured, set S3_RETRY_LIMIT=2, and restart web and sidekiq; or use a region nearer the instance.",
          (r"Net::ReadTimeout", r"over S3_READ_TIMEOUT"), ("jobs.latency",)),
    Entry("read-back", "Thumbnails and transcodes fail: media cannot be read back in parts",
          "Sidekiq reads media back with aws-sdk-s3's download_file (thumbnails, transcodes, emoji copies, "
          "archives): HEAD ?partNumber=1, then ranged or partNumber GETs whose Content-Range it splits. A provider "
          "or proxy that refuses partNumber or drops Content-Range breaks it (mastodon#16822, #26394). "
          "S3_ENABLE_CHECKSUM_MODE=true breaks reads on providers without checksum mode.",
          "Set S3_FORCE_SINGLE_REQUEST=true (whole objects in one GET) and restart sidekiq, or fix the proxy; "
          "remove S3_ENABLE_CHECKSUM_MODE outside AWS.",
          (r"undefined method .split. for nil", r"cannot copy .* to local file", r"Content-Range missing"),
          ("jobs.read_back",)),
    Entry("multipart", "Large uploads fail: multipart",
          "aws-sdk-s3 sends every file at or above S3_MULTIPART_THRESHOLD (in bytes; 15728640 by default) as a "
          "multipart upload. A provider or proxy without multipart fails those videos and archives; a threshold "
          "written as 15 (meaning megabytes) sends every file over 15 bytes that way, and files under 5 MiB fail.",
          "Write S3_MULTIPART_THRESHOLD in bytes (or remove it); behind a provider without multipart, raise it above "
          "the largest upload you allow.",
          (r"unable to multipart upload files smaller than 5MB", r"CreateMultipartUpload"), ("jobs.multipart",)),
    Entry("retention", "Media vanishes or piles up outside Mastodon",
          "A lifecycle rule that expires objects deletes media Mastodon never uploads again (avatars, headers, "
          "emoji, local posts' media); local and cached media share one bucket, so even a rule on cache/ removes "
          "remote avatars for good. Versioning without expiry of old versions keeps every deleted file, billed.",
          "Remove expiry rules on Mastodon's prefixes (let `tootctl media remove` clean the cache); with versioning, "
          "add a NoncurrentVersionExpiration rule or suspend versioning.",
          (r"lifecycle rule",), ("jobs.retention",)),
    Entry("writer-scope", "The writer key is the wrong key",
          "The env file holds a key that cannot write or delete (uploads or cleanups fail), or one with far more "
          "than Mastodon needs (an AWS root key, a B2 master key): whoever reads the env file gets all of it.",
          "Give Mastodon a key limited to the bucket's objects: `mastowizard policy` prints the writer policy.",
          (r"root key",), ("jobs.key_scope",)),
    Entry("checksum", "Checksum errors from S3-compatible providers",
          "The AWS SDK Mastodon uses (aws-sdk-core 3.216+, 2025) sends CRC checksum headers on every upload; "
          "B2, R2 and other S3-compatible providers rejected or mishandled them (mastodon#33624). Mastodon no "
          "longer pins an older SDK (mastodon#36719).",
          "Set AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED and AWS_RESPONSE_CHECKSUM_VALIDATION=WHEN_REQUIRED in "
          "the env file (`mastowizard plan` writes both for every provider but AWS) and restart web and sidekiq.",
          (r"XAmzContentSHA256Mismatch", r"InvalidArgument.*checksum", r"x-amz-checksum", r"NotImplemented.*checksum",
           r"Aws::S3::Errors::BadDigest"), ()),
    Entry("tls", "TLS certificate errors",
          "The media host's or endpoint's certificate is not trusted for that name (self-signed, expired, wrong name).",
          "Install a valid certificate for the exact host name (Let's Encrypt); test with --ca-bundle before going "
          "live.",
          (r"CERTIFICATE_VERIFY_FAILED", r"certificate verify failed", r"SSL_connect", r"TLS certificate"),
          ("media_host",)),
    Entry("no-public-read", "403 on media objects",
          "Objects are not public: uploads lost their public-read ACL, or no bucket policy grants s3:GetObject, or the "
          "media host proxies to another bucket.",
          "ACL mode: keep S3_PERMISSION=public-read and ACLs enabled. Policy mode: apply the bucket policy from "
          "`mastowizard policy`. Check the media host's proxy target.",
          (r"answered 403", r"AccessDenied"), ("public_fetch", "anon.read")),
    Entry("listing", "The bucket or the media host lists files",
          "A bucket policy or ACL lets anyone list keys (s3:ListBucket for *, a public bucket ACL, 'File Listing' "
          "enabled, Wasabi's legacy public access), the media host forwards / to the bucket, or the media host "
          "answers directory paths with a web server's index page (nginx `autoindex on`, Apache `Options "
          "Indexes`), in HTML, JSON or XML.",
          "Remove the public listing grant, turn autoindex off, and deny / and directory paths at the media host; "
          "anyone could otherwise enumerate every upload, including those of suspended accounts.",
          (r"ListBucketResult", r"<title>Index of"), ("anon.list", "bucket.policy", "media_host")),
    Entry("anonymous-write", "Anyone can upload, overwrite, delete or re-ACL media",
          "A bucket policy or ACL grants a write to everyone: s3:PutObject (upload, overwrite), s3:DeleteObject "
          "(delete), s3:PutObjectAcl (make media private or public), or public-read-write on the bucket. The "
          "checklist tries each on a probe object of its own and judges it by its effect.",
          "Remove every write action for Principal * from the bucket policy and public-read-write from the bucket "
          "ACL now: such buckets are found and filled (or emptied) by strangers. Allow only GET (and OPTIONS) "
          "on the media host.", (), ("anon.put",)),
    Entry("backups-public", "Archives under backups/ are public",
          "The public-read grant covers every key, including users' archive exports.",
          "Limit the grant to Mastodon's media prefixes (`mastowizard policy`).", (), ("anon.backups",)),
    Entry("cors-missing", "CORS missing",
          "The media answers without Access-Control-Allow-Origin, so the web UI cannot read it across origins "
          "(some previews, audio and video features break).",
          "Apply the CORS configuration (GET and HEAD from any origin) or add the header at the media host.",
          (r"Access-Control-Allow-Origin",), ("cors", "bucket.cors")),
    Entry("csp", "The web app's Content-Security-Policy blocks the media host",
          "Mastodon builds the policy of its pages from S3_ALIAS_HOST (then S3_CLOUDFRONT_HOST, AZURE_ALIAS_HOST, "
          "S3_HOSTNAME), PAPERCLIP_ROOT_URL and EXTRA_MEDIA_HOSTS (4.4+), always as https, never from S3_ENDPOINT; "
          "img-src, media-src and connect-src must allow where media URLs point. It fails when web has not been "
          "restarted since S3_ALIAS_HOST changed, when the media host redirects to a host the policy does not "
          "list, or when a proxy in front of Mastodon sets its own policy.",
          "Set S3_ALIAS_HOST and restart web; list a redirect's target in EXTRA_MEDIA_HOSTS (4.4+); do not "
          "override the policy at the proxy. Browsers that ran the web app keep the old policy in its service "
          "worker for up to a week (Mastodon's docs): announce a new host that long before the switch "
          "(`mastowizard plan --announce-media-host` writes only EXTRA_MEDIA_HOSTS).",
          (r"Content-Security-Policy", r"Refused to load the (image|media)"), ("instance.csp",)),
    Entry("mixed-content", "Mixed content",
          "The instance is served over https but media URLs use http (S3_PROTOCOL=http): browsers block them.",
          "Serve the media host over https and set S3_PROTOCOL=https.", (r"mixed content",), ("instance.csp",)),
    Entry("not-switched", "The env file still keeps media on disk",
          "S3_ENABLED is not `true` in the env file: the switch to object storage has not been written yet "
          "(or was rolled back). Mastodon does what its env file says.",
          "Copy the media first (Copy media, or `mastowizard migrate`), write the change (Review, or "
          "`mastowizard apply`), then restart.", (r"S3_ENABLED is not true",), ("settings",)),
    Entry("local-storage", "Mastodon still stores media on disk",
          "The env file says object storage, but the running web and sidekiq processes started before it "
          "changed.",
          "Restart them (`mastowizard restart`); on Docker Compose the containers must be recreated.",
          (), ("urls", "settings")),
    Entry("wrong-media-host", "The media host does not serve this bucket",
          "S3_ALIAS_HOST points at a proxy or CDN whose origin is another bucket, another path, or nothing.",
          "Point the media host's origin at this bucket so that keys are served at its root.", (),
          ("objects",)),
    Entry("token", "The access token may not upload",
          "The token is invalid or lacks the write:media scope.",
          "Create an application under Preferences > Development with write:media and use its token.", (),
          ("instance.token",)),
    Entry("processing", "Uploads never finish processing",
          "sidekiq is not running, is stuck, or cannot reach the bucket, so media stays in processing.",
          "Check sidekiq's logs (`mastowizard doctor`), the queue, and its access to the bucket.", (),
          ("upload",)),
    Entry("network", "Mastodon cannot reach the S3 endpoint",
          "DNS, firewall or TLS problems between the Mastodon host and the endpoint.",
          "From the Mastodon host, check `curl -I S3_ENDPOINT`; fix DNS, routes or certificates.",
          (r"Seahorse::Client::NetworkingError", r"Net::OpenTimeout", r"Failed to open TCP connection",
           r"getaddrinfo"), ()),
    Entry("old-urls", "Old /system/ URLs no longer answer",
          "Media was moved to the bucket but the instance's web server no longer serves /system/, so posts and "
          "caches on other servers that still hold old URLs break.",
          "Copy public/system into the bucket (same keys), then redirect or proxy /system/ on the instance's web "
          "server to the media host (e.g. nginx: `location /system/ { return 301 https://MEDIA_HOST$uri; }`).",
          (), ("old_urls",)),
    Entry("media-host-cache", "The media host caches errors",
          "A proxy or CDN in front of the bucket keeps 403, 404 or 5xx answers in its cache: media that failed "
          "once (asked for before the copy finished, or while a setting was wrong) stays broken after the fix, "
          "until the cached entry expires. Mastodon's documented nginx proxy is safe only while proxy_cache_valid "
          "lists 200 alone; a `proxy_cache_path` missing from the http block makes `nginx -t` refuse "
          "`proxy_cache`, and a `resolver` the host cannot reach gives 502s.",
          "Cache successful answers only (nginx: `proxy_cache_valid 200 7d`; a CDN: do not cache 4xx/5xx), then "
          "purge the cache (nginx: empty the proxy_cache_path directory). The Media host step and its saved "
          "files have a configuration that does this, for nginx and for Caddy.",
          (r"caches its errors",), ("media_host",)),
    Entry("media-host-dns", "The media host does not resolve or answer",
          "No DNS record for S3_ALIAS_HOST yet, or the proxy/CDN is not set up for that name.",
          "Create the DNS record and the proxy or CDN for the media host; test before DNS is live with --resolve.",
          (r"does not resolve",), ("media_host",)),
    Entry("instance-down", "The instance does not answer /health",
          "Wrong --instance URL, web not running, or a page that is not Mastodon (a proxy's error page).",
          "Give the instance's own URL and check that mastodon-web runs (`mastowizard restart`).", (),
          ("instance.health",)),
    Entry("writer-permissions", "The writer credential lacks permissions",
          "The key may not put, get or delete objects in this bucket.",
          "Attach the writer policy from `mastowizard policy` to the credential.", (), ("writer.write",
                                                                                         "writer.bucket")),
    Entry("cleanup", "The test upload was not deleted",
          "DELETE /api/v1/media/:id failed (Mastodon before 4.4 has no such endpoint) or the connection broke.",
          "Delete it by hand with the id shown; unattached media is also removed by Mastodon's own cleanup after "
          "about a day.", (), ("cleanup",)),
    Entry("credentials-missing", "No credentials",
          "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are empty in the env file Mastodon reads.",
          "Put the writer credential in .env.production and restart.", (r"MissingCredentialsError",), ()),
)
BY_ID = {e.id: e for e in ENTRIES}


def for_check(check: Check) -> Entry | None:
    """The entry that explains a failing check: by the error code it saw first, then by the check."""
    error = str(check.evidence.get("error", ""))
    text = f"{check.detail} {error}"
    if error:
        for e in ENTRIES:
            if e.patterns and e.matches(error):
                return e
    for e in ENTRIES:
        if check.id in e.checks and e.patterns and e.matches(text):
            return e
    for e in ENTRIES:
        if check.id in e.checks:
            return e
    for e in ENTRIES:
        if e.patterns and e.matches(text):
            return e
    return None


def link_failures(checks: list[Check]) -> list[Check]:
    """Every failing or warning check gets a link to its entry in its evidence."""
    for c in checks:
        if c.status in ("fail", "warn"):
            entry = for_check(c)
            if entry:
                c.evidence["doc"] = entry.link
    return checks


@dataclass
class LogMatch:
    """A known error seen in a service's log: how often, and one line of it."""

    entry: Entry
    count: int
    sample: str
    source: str


def match_logs(lines: list[str], source: str) -> list[LogMatch]:
    """Known errors in log lines, most frequent first."""
    found: dict[str, LogMatch] = {}
    for line in lines:
        for e in ENTRIES:
            if e.patterns and e.matches(line):
                f = found.setdefault(e.id, LogMatch(e, 0, line.strip()[:300], source))
                f.count += 1
                break
    return sorted(found.values(), key=lambda f: -f.count)


def render_docs() -> str:
    """docs/troubleshooting.md, generated so that every entry a check links to exists."""
    out = ["# Troubleshooting\n",
           "Generated from `mastowizard/checklist/knowledge.py` by `python3 scripts/generate_docs.py`.",
           "`mastowizard check` links each failing check here; `mastowizard doctor` also reads the logs of web and",
           "sidekiq (journalctl or `docker compose logs`, over SSH too) and matches them against these entries.",
           "For the bucket probes see [probes.md](probes.md).\n"]
    for e in ENTRIES:
        out.append(f'<a id="{e.id}"></a>\n## {e.title}\n')
        out.append(f"**Cause.** {e.cause}\n")
        out.append(f"**Fix.** {e.fix}\n")
        if e.checks:
            out.append("Reported by: " + ", ".join(f"`{c}`" for c in e.checks) + "\n")
        if e.patterns:
            out.append("Recognised in errors and logs by: " + ", ".join(f"`{p}`" for p in e.patterns) + "\n")
    return "\n".join(out)

