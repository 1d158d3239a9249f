"""README.md stays true: its ops tables are what the code generates, and its commands are the real ones."""
import os
import re

from edgepress.convert.optable import BEGIN, END, markdown

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def readme() -> str:
    with open(README, encoding="utf-8") as f:
        return f.read()


def test_ops_table_is_generated_from_code():
    text = readme()
    current = text[text.index(BEGIN): text.index(END) + len(END)]
    assert current == markdown(), "README ops tables are stale: run `python -m edgepress.convert.optable` and paste"


def test_ci_runs_the_readme_test_command():
    block = re.search(r"<!-- test-command -->\n```bash\n(.+?)\n```", readme(), re.S)
    assert block and "pytest" in block.group(1)
    ci = open(os.path.join(os.path.dirname(README), ".ci", "run"), encoding="utf-8").read()
    assert "test-command" in ci
