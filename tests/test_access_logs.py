"""docs/access-logs.md: what the page promises of this repository's own pieces holds."""

from __future__ import annotations

import logging
from pathlib import Path

from helpers import load_snippet  # tests/ is on sys.path
from test_examples import EXAMPLES, read_template

DOC = Path(__file__).resolve().parents[1] / "docs" / "access-logs.md"


def test_the_template_logs_no_query_strings() -> None:
    """The SAM template's API has no access log setting and no full-request execution log."""
    template = read_template(EXAMPLES / "template.yaml")
    api = template["Resources"]["Api"]["Properties"]
    assert "AccessLogSetting" not in api
    for setting in api.get("MethodSettings", []):
        assert setting.get("DataTraceEnabled", False) is False
        assert setting.get("LoggingLevel", "OFF") == "OFF"


def test_the_uvicorn_filter_drops_the_query_string(tmp_path: Path) -> None:
    """The page's filter turns uvicorn's access record into the path alone, blob gone."""
    text = DOC.read_text(encoding="utf-8")
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    module = load_snippet(tmp_path, "drop_query.py", code)
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/respond?action=a&type=success&data=SECRETBLOB", "1.1", 200),
        None,
    )
    assert module.DropQueryString().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /respond HTTP/1.1" 200'
    access = logging.getLogger("uvicorn.access")
    for added in [item for item in access.filters if isinstance(item, module.DropQueryString)]:
        access.removeFilter(added)
