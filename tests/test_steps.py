"""The wizard's one step table (screens/steps.py): each step's screen is the class it names, in the
module it names, and says which step it is."""

from screens import steps


def test_every_step_names_its_screen_and_the_screen_its_step():
    for step in steps.STEPS:
        assert step.screen_class().STEP == step.id
    assert [steps.index(sid) for sid in steps.ids()] == list(range(len(steps.STEPS)))
    assert steps.get("target").number == 1
