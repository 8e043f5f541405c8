"""What is shown never holds a secret: a URL's userinfo, or a value this process holds as a Secret."""

import io

from mastowizard.secrets import ScrubbedStream, Secret, mask_userinfo, scrub


def test_userinfo_is_masked_in_any_url():
    assert mask_userinfo("https://KEY:SECRET@s3.example.com/x") == "https://****@s3.example.com/x"
    assert mask_userinfo("see http://tok@[::1]:8080/health, then") == "see http://****@[::1]:8080/health, then"
    assert mask_userinfo("S3_ENDPOINT=https://a:b@h") == "S3_ENDPOINT=https://****@h"
    # an @ in a path or a query is not userinfo
    assert mask_userinfo("https://mastodon.example/@alice") == "https://mastodon.example/@alice"
    assert mask_userinfo("https://h/x?u=a@b") == "https://h/x?u=a@b"


def test_a_held_secret_is_scrubbed_from_any_text():
    value = "HeldSecret-0123456789abcdef"
    Secret(value)
    assert value not in scrub(f"error: {value} was refused")
    assert scrub(f"error: {value}") == "error: ****cdef"
    Secret("test")     # a lab throwaway: too short to scrub without hiding plain words
    assert scrub("a test bucket") == "a test bucket"


def test_the_cli_stream_scrubs_what_passes_through():
    Secret("StreamSecret-0123456789")
    out = io.StringIO()
    ScrubbedStream(out).write("token StreamSecret-0123456789 at https://u:p@h\n")
    assert out.getvalue() == "token ****6789 at https://****@h\n"
