"""The wizard's one step table (screens/steps.py): each step's screen is the class it names, in the
module it names, and says which step it is."""

from screens import steps


def test_every_step_names_its_screen_and_the_screen_its_step():
    for step in steps.STEPS:
        assert step.id == step.screen_class().STEP == step.screen_class(back_to_disk=True).STEP
    assert all(steps.get(s.id) is s and s.number == i for i, s in enumerate(steps.STEPS, 1))
