"""Which features a deployment enables: the one decision every entry point asks.

The ready Lambda app, ``sfn-callback-urls mint`` and ``serve``, and the demo each build their
`Features` here (the environment's switches, and an option that turns one on), refuse here a
create-URLs request that asks for a disabled one, and build their callback handler here, so a
URL that one of them refuses is refused by all with the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._config import ENV_ENABLE_OUTPUT_PARAMETERS, ENV_ENABLE_POST_ACTIONS, Settings
from ._deadline import DEFAULT_BUDGET
from ._handler import CallbackHandler
from .errors import ParametersDisabled, PostActionsDisabled

if TYPE_CHECKING:
    from ._codec import Codec
    from ._complete import StepFunctionsClient
    from ._logging import LoggerLike
    from ._models import Action
    from ._theme import PageTheme

__all__ = ["Features"]


@dataclass(frozen=True)
class Features:
    """The switches of a deployment.

    Attributes:
        output_parameters: query parameters may fill ``$templates`` in outputs.
        post_actions: ``post`` actions are minted and served.
        confirm_get: a GET asks for a confirmation before acting (for actions that don't say).
        original_kms_key_id: the KMS key whose original ``2-`` URLs are opened too, or ``None``.
        budget: seconds a click may spend on AWS calls.
        page_theme: the look and words of the approver's pages, or ``None`` for the built-in.
        check_task_before_confirm: a confirm page is shown only while the task still waits.
    """

    output_parameters: bool = False
    post_actions: bool = False
    confirm_get: bool = False
    original_kms_key_id: str | None = None
    budget: float = DEFAULT_BUDGET
    page_theme: PageTheme | None = None
    check_task_before_confirm: bool = False

    @classmethod
    def of(
        cls,
        settings: Settings,
        *,
        output_parameters: bool = False,
        post_actions: bool = False,
        confirm_get: bool = False,
    ) -> Features:
        """What ``settings`` enable, and what an option (the CLI's flags) turns on besides."""
        return cls(
            output_parameters=output_parameters or settings.enable_output_parameters,
            post_actions=post_actions or settings.enable_post_actions,
            confirm_get=confirm_get or settings.confirm_get,
            original_kms_key_id=settings.original_kms_key_id,
            budget=settings.budget,
            page_theme=settings.page_theme,
            check_task_before_confirm=settings.check_task_before_confirm,
        )

    def check_mint(self, actions: Sequence[Action], *, output_parameters: bool) -> None:
        """Refuse to mint what this deployment would refuse to serve.

        Raises:
            PostActionsDisabled: a ``post`` action, and POST actions are off.
            ParametersDisabled: output parameters for a GET action, and they are off (POST
                actions take their values from the body, never the query).
        """
        if not self.post_actions and any(action.type == "post" for action in actions):
            raise PostActionsDisabled(
                f"POST actions are disabled on this deployment ({ENV_ENABLE_POST_ACTIONS})."
            )
        if (
            output_parameters
            and not self.output_parameters
            and any(action.type != "post" for action in actions)
        ):
            raise ParametersDisabled(
                "Output parameters are disabled on this deployment "
                f"({ENV_ENABLE_OUTPUT_PARAMETERS})."
            )

    def enabled(self) -> list[str]:
        """The enabled switches in words, for a start-up line."""
        return [
            name
            for name, on in (
                ("confirm GET", self.confirm_get),
                ("output parameters", self.output_parameters),
                ("POST actions", self.post_actions),
            )
            if on
        ]

    def callback_handler(
        self,
        codec: Codec,
        *,
        stepfunctions_client: StepFunctionsClient | None = None,
        logger: LoggerLike | None = None,
    ) -> CallbackHandler:
        """The callback handler that serves ``codec``'s URLs with these switches."""
        return CallbackHandler(
            codec,
            stepfunctions_client=stepfunctions_client,
            enable_output_parameters=self.output_parameters,
            enable_post_actions=self.post_actions,
            confirm_get=self.confirm_get,
            original_kms_key_id=self.original_kms_key_id,
            logger=logger,
            budget=self.budget,
            page_theme=self.page_theme,
            check_task_before_confirm=self.check_task_before_confirm,
        )
