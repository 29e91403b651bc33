"""Pure flow fixtures: a flow context with the packaged texts and a stand-in NLU."""

from __future__ import annotations

import pytest

from bot.config import Settings
from flows.context import FlowContext
from flows.texts import Catalogue
from nlu.responses import load_faq_answers
from support.flows import fake_understand


@pytest.fixture(scope="session")
def ctx(settings: Settings, catalogue: Catalogue) -> FlowContext:
    return FlowContext(
        catalogue=catalogue,
        partners=settings.partner_map(),
        office_hours=settings.loket.office_hours(),
        understand=fake_understand,  # type: ignore[arg-type]
        faq_answers=load_faq_answers(),
        cjg_name=settings.cjg.name,
        responsible=settings.cjg.responsible_organisation,
        retention_days=28,
        reminder_after_working_hours=3,
        channel="console",
    )
