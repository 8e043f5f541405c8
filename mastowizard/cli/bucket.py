"""The bucket's commands: `policy`, `probe`, `setup-bucket` and `providers`."""

from __future__ import annotations

import argparse
import json
import sys

from ..options import ENV_FILE, HTTP, JSON, SETTINGS, YES, Option, add
from ..providers import all_providers
from ..results import Check
from ..s3 import policies
from .inputs import admin_credential, admin_profile, http_options, load_settings, public_settings, writer_credential
from .output import print_checks
from .prompts import confirm
from .status import ExitStatus

ADMIN_PROFILE = Option("--admin-profile", "the admin credential from this AWS profile (~/.aws/credentials, "
                       "~/.aws/config; its region and endpoint_url fill what the settings leave empty); default "
                       "$MASTOWIZARD_ADMIN_PROFILE", "NAME")


def add_parsers(sub) -> None:
    add(sub.add_parser("policy", help="print the bucket policy, CORS configuration and writer policy"),
        ENV_FILE, JSON, SETTINGS)
    add(sub.add_parser("probe", help="probe the bucket with the writer credential and anonymously"),
        ENV_FILE, JSON, SETTINGS, *HTTP, ADMIN_PROFILE)
    add(sub.add_parser("setup-bucket", help="with an admin credential, make the bucket fit the permission mode, "
                       "then probe it"),
        ENV_FILE, JSON, SETTINGS, *HTTP, ADMIN_PROFILE, YES.but(help="change the bucket without asking (what "
                                                                    "changes is printed first)"))
    add(sub.add_parser("providers", help="list the provider catalog"), JSON)


def cmd_policy(args: argparse.Namespace) -> int:
    settings, notes, _ = load_settings(args)
    docs = policies.documents(settings)
    if args.json:
        print(json.dumps(docs, indent=2))
        return ExitStatus.OK
    titles = {
        "bucket_policy": "Bucket policy (policy mode: public read of Mastodon's media, never backups/)"
                         + (" -- not needed in ACL mode" if settings.permission == "acl" else ""),
        "cors": "CORS configuration (GET and HEAD from any origin)",
        "writer_policy": "Writer policy (attach to the credential in AWS_ACCESS_KEY_ID)",
    }
    for n in notes:
        print(f"note: {n}")
    for name, doc in docs.items():
        print(f"# {titles[name]}")
        print(policies.to_json(doc))
        print()
    return ExitStatus.OK


def cmd_probe(args: argparse.Namespace, setup: bool = False) -> int:
    from ..s3.bucket_setup import describe_setup, setup_bucket
    from ..s3.probes import run_probes

    settings, notes, _ = load_settings(args)
    http = http_options(args)
    profile = admin_profile(args)
    writer = writer_credential(settings)
    admin = profile.credential if profile else admin_credential(required=setup)
    admin_settings = profile.fill(settings) if profile else settings
    if profile:
        notes.append(f"admin credential: AWS profile {profile.name!r}")
    checks: list[Check] = []
    if setup:
        assert admin is not None
        lines = describe_setup(admin_settings, admin, f"AWS profile {profile.name}" if profile else
                               "MASTOWIZARD_ADMIN_ACCESS_KEY_ID", http, writer.access_key_id)
        for line in lines:
            print(f"change: {line}", file=sys.stderr if args.json else sys.stdout)
        confirm(f"Change the settings of bucket {settings.bucket}?", args.yes,
                ("no terminal to ask before changing the bucket", "read what it changes above, then add --yes"))
        checks += setup_bucket(admin_settings, admin, http)
    checks += run_probes(settings, writer, http, admin)
    return print_checks(checks, args.json, notes, {"settings": public_settings(settings)})


def cmd_setup_bucket(args: argparse.Namespace) -> int:
    return cmd_probe(args, setup=True)


def cmd_providers(args: argparse.Namespace) -> int:
    provs = all_providers()
    if args.json:
        print(json.dumps([{"id": p.id, "name": p.name, "endpoint_pattern": p.endpoint_pattern,
                           "default_region": p.default_region, "object_acls": p.object_acls,
                           "default_permission": p.default_permission} for p in provs], indent=2))
        return ExitStatus.OK
    for p in provs:
        print(f"{p.id:14} {p.name:32} acl: {p.object_acls:20} recommended: {p.default_permission}")
    return ExitStatus.OK


COMMANDS = {"policy": cmd_policy, "probe": cmd_probe, "setup-bucket": cmd_setup_bucket, "providers": cmd_providers}
