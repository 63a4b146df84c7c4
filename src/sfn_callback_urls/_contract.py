"""The contract's constants: the callback URL's shape, every size limit and the text rules.

Limits are of two kinds: Step Functions' own (a longer token, error, cause or output would be
refused by AWS, so we refuse it first, with a clear error) and ours (caps on what an untrusted
request may make us decode, each with room above anything we mint).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

# --- the callback URL: {base_url}/respond?action=NAME&type=TYPE&data=BLOB ------------------------

#: Path appended to the base URL.
CALLBACK_PATH: Final = "/respond"
#: Query parameter holding the action name (for humans; checked against the blob).
QUERY_ACTION: Final = "action"
#: Query parameter holding the action type (for humans; checked against the blob).
QUERY_TYPE: Final = "type"
#: Query parameter holding the sealed blob.
QUERY_DATA: Final = "data"

#: The contract's action types; the models' ``type`` literals, each a class of its own.
ACTION_TYPES: Final = ("success", "failure", "heartbeat", "post")

# --- Step Functions' limits --------------------------------------------------------------------

#: Longest task token Step Functions issues (and so the longest we accept).
MAX_TOKEN_LENGTH: Final = 2048
#: Longest ``error`` of ``SendTaskFailure``, in characters.
MAX_ERROR_LENGTH: Final = 256
#: Longest ``cause`` of ``SendTaskFailure``, in characters.
MAX_CAUSE_LENGTH: Final = 32_768
#: Largest task output: 256 KiB of UTF-8 JSON text.
MAX_OUTPUT_BYTES: Final = 262_144

# --- ours --------------------------------------------------------------------------------------

#: Longest action or outcome name.
MAX_ACTION_NAME_LENGTH: Final = 64
#: Longest key id a blob can carry (its length is one byte on the wire).
MAX_KEY_ID_LENGTH: Final = 32
#: Longest key backend header a blob can carry (its length is one byte on the wire).
MAX_KEY_HEADER_LENGTH: Final = 255
#: Longest blob minted or accepted, in characters (CloudFront and edge-optimized API Gateway cap
#: URLs at 8,192); a longer one is refused before any decoding.
MAX_BLOB_LENGTH: Final = 8000
#: Largest action JSON a deflated blob may inflate to: no zip bombs.
MAX_DECOMPRESSED_SIZE: Final = 512 * 1024
#: Longest query string accepted: a maximal blob plus room for output parameters.
MAX_QUERY_LENGTH: Final = MAX_BLOB_LENGTH + 2048
#: Most parameters a query string may have.
MAX_QUERY_FIELDS: Final = 64
#: Largest POST body a POST action decodes, in bytes (Step Functions' own limit on task output).
MAX_POST_BODY_SIZE: Final = 256 * 1024
#: Deepest nesting of arrays and objects in a POST body.
MAX_POST_BODY_DEPTH: Final = 64
#: Most JSON values (strings, numbers, booleans, nulls, arrays and objects; not keys) in a POST
#: body: JSON Schema and JSONPath (``$..*`` above all) cost time per value, and the size cap
#: alone allows about 130,000.
MAX_POST_BODY_VALUES: Final = 10_000
#: Longest title a confirm page shows (``confirm.title``), in characters.
MAX_CONFIRM_TITLE_LENGTH: Final = 200
#: Longest details a confirm page shows (``confirm.details``), in characters.
MAX_CONFIRM_DETAILS_LENGTH: Final = 2000
#: Highest ``confirm.comment_max_length``: the longest comment an approver can ever send.
MAX_COMMENT_LENGTH: Final = 2000
#: ``confirm.comment_max_length`` when the sender gives none.
DEFAULT_COMMENT_MAX_LENGTH: Final = 500
#: Largest request body the WSGI and ASGI apps read (413 beyond, unread); room above
#: `MAX_POST_BODY_SIZE` so that the handler, not the server, says what is wrong.
MAX_BODY_SIZE: Final = 512 * 1024


# --- text: what JSON, Step Functions, logs and regex engines can carry ---------------------------

_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def is_unicode_text(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8: no lone surrogate (U+D800 to U+DFFF).

    A JSON escape of one or a hand-built Python string can hold one; Step Functions, a log line
    or a regex engine cannot take it.
    """
    return text.isascii() or _LONE_SURROGATE.search(text) is None


#: Control characters other than newline and tab (C0, DEL and C1): never in text a person sees
#: or writes (a confirm page's details, the approver's comment, a page theme's words).
CONTROL_CHARACTERS: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def refuse_json_constant(name: str) -> Any:
    """Refuse ``NaN``, ``Infinity`` and ``-Infinity``: not JSON, though Python's decoder takes them.

    For ``json.loads(text, parse_constant=refuse_json_constant)``.
    """
    raise ValueError(f"{name} is not JSON")


# --- switches: how an environment variable says "on" ------------------------------------------

_TRUTHY: Final = frozenset({"true", "1", "yes"})


def flag(environ: Mapping[str, str], name: str) -> bool:
    """Whether the switch ``name`` is on: ``true``, ``1`` or ``yes`` in any case."""
    return environ.get(name, "").strip().lower() in _TRUTHY
