"""The guides name what the code has: every config section in the technician's list, no stale promises."""

from __future__ import annotations

import re

from daemon.config import InstallationConfig
from tests.conftest import REPO


def test_the_technicians_list_of_sections_is_every_section_there_is():
    guide = (REPO / "docs" / "technician.md").read_text()
    paragraph = guide.split("Sections today", 1)[1].split("\n\n", 1)[0]
    named = {name.split(".")[0] for name in re.findall(r"`\[\[?([a-z_.]+)(?:\.<name>|\.\*)?\]\]?`", paragraph)}
    assert named == set(InstallationConfig.model_fields), paragraph


def test_visuals_guide_does_not_promise_the_image_child_later():
    assert "image child later" not in (REPO / "docs" / "visuals.md").read_text()
