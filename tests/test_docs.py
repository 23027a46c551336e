"""The environment pages in docs/envs are generated from the code and must not drift."""
from __future__ import annotations

import subprocess
import sys

from conftest import REPO_ROOT


def test_environment_pages_match_the_code():
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "gen_env_docs.py"), "--check"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_exported_environment_has_a_page_with_the_required_sections():
    sys.path.insert(0, str(REPO_ROOT / "tools"))
    import gen_env_docs

    for name in gen_env_docs.environment_classes():
        text = (REPO_ROOT / "docs" / "envs" / f"{name}.md").read_text()
        for section in ("## Action", "## Observation", "## Reward", "## Termination", "## Arguments"):
            assert section in text, f"{name}: missing {section}"
