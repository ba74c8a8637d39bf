"""The README's Python snippets run as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_snippet_runs(code):
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    assert "fg" in namespace  # every snippet imports funcgrad and does something with it


def test_readme_has_snippets():
    assert len(BLOCKS) >= 2
