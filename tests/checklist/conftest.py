"""The checklist tests' lab instance, in each permission mode."""

import pytest
from helpers.checklist import Lab


@pytest.fixture(params=["acl", "policy"])
def lab(request, tmp_path, bucket, lab_info):
    lab = Lab(tmp_path, bucket, lab_info, request.param)
    yield lab
    lab.stop()
