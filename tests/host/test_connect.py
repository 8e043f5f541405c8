"""Opening the instance's host: None is this machine, an SSH target that is empty is refused (never
taken for this machine), and a sudo user needs SSH."""

import pytest

from mastowizard.errors import InputError
from mastowizard.host.connect import open_host
from mastowizard.host.local import LocalHost
from mastowizard.session import Answers, Session


def test_no_ssh_target_is_this_machine():
    assert isinstance(open_host(None), LocalHost)
    with pytest.raises(InputError) as e:
        open_host(None, sudo_user="mastodon")
    assert e.value.field == "--sudo-user"


@pytest.mark.parametrize("typed", ["", "   "])
def test_over_ssh_with_no_host_typed_is_refused_not_this_machine(typed):
    session = Session(Answers(target="ssh", ssh=typed))
    with pytest.raises(InputError) as e:
        session.connect()
    assert e.value.field == "--ssh" and session.host is None, (e.value, session.host)
