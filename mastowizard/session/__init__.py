"""The wizard's engine side: one Session holding the answers and what the steps found (state.py), and
each step's behaviour in a module named after its screen. Each method blocks; the UI runs them in
workers. Nothing here imports Textual; the operations themselves are the engine's, shared with the
CLI. Secrets are held as Secret and never saved: the profile keeps only the rest."""

from __future__ import annotations

from .answers import Answers, load_answers, profile_path, save_answers, saved_files_dir
from .copymedia import CopyMediaStep
from .mediahost import MediaHostStep
from .permission import PermissionStep
from .provider import ProviderStep
from .restart import RestartStep
from .review import ReviewStep
from .target import TargetStep
from .verify import VerifyStep
from .watch import WatchStep

__all__ = ["Answers", "Session", "load_answers", "profile_path", "save_answers", "saved_files_dir"]


class Session(TargetStep, ProviderStep, PermissionStep, MediaHostStep, CopyMediaStep, ReviewStep, RestartStep,
              VerifyStep, WatchStep):
    """The state (state.State) with every step's behaviour."""
