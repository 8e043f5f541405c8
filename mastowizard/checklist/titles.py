"""The checklist's checks: their ids and titles in the order they are shown, and the group that
runs each (a retry of one check reruns its group)."""

from __future__ import annotations

from ..results import Check
from ..s3 import jobs

TITLES = {
    "settings": "S3 settings are complete and consistent",
    "writer.credentials": "Writer credential is valid",
    "writer.bucket": "Bucket reachable with this region and addressing",
    "writer.write": "Writer can write and delete an object",
    "media_host": "Media host resolves, has valid TLS and lists nothing at its root",
    "anon.list": "Nobody can list the bucket anonymously",
    "anon.put": "Nobody can upload, overwrite, re-ACL or delete anonymously",
    "anon.backups": "Private archives under backups/ are not readable",
    "cors": "CORS lets the web UI read media",
    **jobs.TITLES,
    "instance.health": "Instance answers /health",
    "instance.token": "Access token is valid and may upload media",
    "upload": "Test image uploads through the API",
    "urls": "Media URLs are on the media host, without the bucket in the path",
    "objects": "Original and small objects are in the bucket",
    "public_fetch": "Media host serves the upload publicly with the right headers",
    "cleanup": "Test upload deleted",
    "old_urls": "Old /system/ URLs still answer",
    "instance.csp": "The web app's Content-Security-Policy allows the media host",
}
ORDER = list(TITLES)
BUCKET_GROUP = {"settings", "writer.credentials", "writer.bucket", "writer.write", "media_host", "anon.list",
                "anon.put", "anon.backups", "cors"}
JOBS_GROUP = set(jobs.IDS)
INSTANCE_GROUP = set(TITLES) - BUCKET_GROUP - JOBS_GROUP | {"cors"}


def new_check(cid: str) -> Check:
    """Check CID with its title, not yet judged."""
    return Check(cid, TITLES[cid])
