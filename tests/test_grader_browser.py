"""The leaderboard page in a real headless browser (Debian's chromium): the DOM its script renders."""
from __future__ import annotations

import html.parser
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest
import requests

from osim.http.client import Client, run_submission
from osim.http.testing import GraderProcess

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
HOSTILE_NAME = '<img src=x onerror="document.title=\'owned\'">mallory'


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("chromium not found: install Debian's 'chromium' package (or set CHROMIUM)")
    return found


def rendered_dom(url: str) -> str:
    """The DOM after the page's scripts ran (virtual time lets its fetches finish)."""
    with tempfile.TemporaryDirectory(prefix="osim-chromium-") as profile:
        result = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
             "--dump-dom", url],
            capture_output=True, text=True, timeout=120, check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class Tables(html.parser.HTMLParser):
    """Cell texts of each table by id, elements found inside tables, and the page title."""

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.tags_in_tables: set[str] = set()
        self.attributes: dict[str, dict[str, str | None]] = {}
        self.title = ""
        self._table: str | None = None
        self._in_body = False
        self._cell: list[str] | None = None
        self._in_title = False
        self.feed(dom)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if "id" in attributes:
            self.attributes[str(attributes["id"])] = attributes
        if tag == "table":
            self._table = attributes.get("id")
            self.tables[str(self._table)] = []
        elif self._table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.tables[str(self._table)].append([])
        elif self._in_body and tag == "td":
            self._cell = []
        elif self._in_body:
            self.tags_in_tables.add(tag)
        if tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.tables[str(self._table)][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_title:
            self.title += data


class ConstantPolicy:
    def __init__(self, level: float) -> None:
        self.level = level

    def __call__(self, observation: object) -> list[float]:
        return [self.level] * 18


@pytest.fixture(scope="module")
def grader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraderProcess]:
    db = tmp_path_factory.mktemp("browser") / "grader.sqlite3"
    with GraderProcess(db, ["--env", "L2RunEnv", "--seeds", "1,2", "--max-steps", "8"]) as process:
        yield process


def test_leaderboard_page_renders_scores_in_a_browser(grader: GraderProcess) -> None:
    scores = {}
    for name, level in (("alice", 0.0), (HOSTILE_NAME, 1.0), ("bob", 0.5)):
        scores[name] = run_submission(Client(grader.url), grader.create_token(name), "L2RunEnv",
                                      ConstantPolicy(level))
    # carol leaves after one simulation: listed as unfinished, not ranked.
    carol = Client(grader.url)
    carol.env_create(grader.create_token("carol"), "L2RunEnv")
    done = False
    for _ in range(8):
        _, _, done, _ = carol.env_step([0.3] * 18)
    assert done
    carol.env_close()
    assert len(set(scores.values())) == 3, "the three policies should score differently"

    page = Tables(rendered_dom(grader.url + "/leaderboard?env_id=L2RunEnv"))
    assert page.attributes["state"]["data-state"] == "loaded"
    assert page.title == "osim-rl leaderboard: L2RunEnv"  # set by the script, not by the hostile name
    ranked = sorted(scores, key=scores.get, reverse=True)
    rows = page.tables["leaderboard"]
    assert [row[1] for row in rows] == ranked
    assert [row[0] for row in rows] == ["1", "2", "3"]
    for row in rows:
        assert float(row[3]) == pytest.approx(scores[row[1]], abs=5e-5)  # total, 4 decimals
        assert float(row[2]) == pytest.approx(scores[row[1]] / 2, abs=5e-5)  # mean of 2 simulations
        assert row[4] == "2"
    assert "img" not in page.tags_in_tables  # the hostile name is text, not markup
    recent = {row[1]: row for row in page.tables["recent"]}
    assert recent["carol"][2] == "unfinished" and recent["carol"][4] == "1 of 2"
    assert "closed by the client" in recent["carol"][5]
    assert all(recent[name][2] == "finished" for name in scores)


def test_leaderboard_page_for_an_environment_without_scores(grader: GraderProcess) -> None:
    page = Tables(rendered_dom(grader.url + "/leaderboard?env_id=L2M2019Env"))
    assert page.attributes["state"]["data-state"] == "loaded"
    assert page.tables["leaderboard"] == [["No scored submission yet."]]
    board = requests.get(grader.url + "/leaderboard.json", params={"env_id": "L2M2019Env"}, timeout=30).json()
    assert board["entries"] == [] and "L2RunEnv" in board["env_ids"]
    assert json.loads(requests.get(grader.url + "/openapi.json", timeout=30).text)["paths"]
