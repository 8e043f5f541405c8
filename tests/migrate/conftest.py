"""The media copy tests' bucket, set up for a permission mode with the lab's admin key."""

import pytest
from helpers.migrate import settings_for

from mastowizard.s3.bucket_setup import setup_bucket
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret


@pytest.fixture
def prepared(bucket, request):
    """The bucket set up for the mode with the lab's admin key (ACLs enabled, or the public-read policy)."""
    def prepare(permission, prefix=None):
        srv = bucket.server
        s = settings_for(bucket, permission, prefix)
        checks = setup_bucket(s, Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))
        assert not [c for c in checks if c.status == "fail"], [(c.id, c.detail) for c in checks]
        return s
    return prepare
