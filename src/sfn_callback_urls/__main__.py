"""``python -m sfn_callback_urls``: the ``sfn-callback-urls`` command."""

import sys

from ._cli import main

sys.exit(main())
