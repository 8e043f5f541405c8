"""Getting a write:media token the OAuth way, against the lab's Mastodon stand-in (apps, the
consent form, the OOB code page, token with PKCE, revoke, the well-known document), with
mastowizard's engine, its `token` command and Mastodon.py, a real client."""

import os
import re
import subprocess
import sys

import pytest
from helpers.oauth_browser import authorize, works

from mastowizard.errors import InputError
from mastowizard.instance import oauth
from mastowizard.secrets import Secret
from mastowizard_lab import mastodon as lab_mastodon

pytestmark = pytest.mark.lab
PORT = 17034


@pytest.fixture
def instance(tmp_path):
    env = tmp_path / ".env.production"
    env.write_text("LOCAL_DOMAIN=lab.example\nS3_ENABLED=false\n")
    run = lab_mastodon.start(env, PORT, tmp_path / "state", {}, base_url=f"http://127.0.0.1:{PORT}")
    yield run.url
    run.stop()


def test_the_flow_with_pkce_gives_a_write_media_token_and_revokes_it(instance):
    auth = oauth.start(instance)
    assert auth.pkce and "code_challenge_method=S256" in auth.url and "scope=write%3Amedia" in auth.url
    assert auth.app.client_secret.reveal() not in auth.url
    code = authorize(auth.url)
    token = oauth.finish(auth, code)
    assert token.scope == "write:media" and works(instance, token.access_token.reveal()) == 200
    with pytest.raises(InputError, match="a code works once"):
        oauth.finish(auth, code)
    assert oauth.revoke(token) and works(instance, token.access_token.reveal()) == 401


def test_a_wrong_pkce_verifier_or_an_unticked_box_is_one_clear_line(instance):
    auth = oauth.start(instance)
    code = authorize(auth.url)
    auth.verifier = Secret("not-the-verifier-that-made-the-challenge")
    with pytest.raises(InputError) as e:
        oauth.finish(auth, code)
    assert "invalid_grant" in str(e.value) and code not in str(e.value)
    auth = oauth.start(instance)
    with pytest.raises(InputError) as e:
        oauth.finish(auth, authorize(auth.url, untick=("write:media",)))
    assert e.value.field == "scope" and "leave the write:media box ticked" in str(e.value)


def test_an_instance_url_that_is_not_mastodon_is_one_line(instance):
    for bad, fragment in (("ftp://x.example", "uses .ftp."), ("http://mastodon.example", "uses http"),
                          ("https://mastodon.example/about", "has a path"), ("", "is empty")):
        with pytest.raises(InputError, match=fragment):
            oauth.start(bad)


def test_the_token_command_prints_the_token_alone_on_stdout(instance):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MASTODON_", "DISPLAY", "WAYLAND"))}
    p = subprocess.Popen([sys.executable, "-m", "mastowizard", "token", "--instance", instance],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    shown = ""
    while "/oauth/authorize?" not in shown:
        line = p.stderr.readline()
        assert line, shown
        shown += line
    url = re.search(r"(http://\S+/oauth/authorize\?\S+)", shown)[1]
    out, err = p.communicate(authorize(url) + "\n", timeout=60)
    assert p.returncode == 0, err
    token = out.strip()
    assert out == token + "\n" and len(token) > 20 and token not in err + shown
    assert "write:media" in err and works(instance, token) == 200


def test_mastodon_py_gets_a_token_from_the_stand_in(instance):
    """A real client's own OAuth helpers against the stand-in: it must be faithful to them too."""
    from mastodon import Mastodon
    client_id, client_secret = Mastodon.create_app("mastowizard lab test", scopes=["write:media"],
                                                   redirect_uris=oauth.OOB, api_base_url=instance)
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=instance,
                 version_check_mode="none")
    url = m.auth_request_url(scopes=["write:media"], redirect_uris=oauth.OOB, allow_http=True)
    token = m.log_in(code=authorize(url), scopes=["write:media"], allow_http=True)
    assert works(instance, token) == 200
    m.revoke_access_token(allow_http=True)      # the lab is http on loopback
    assert works(instance, token) == 401
