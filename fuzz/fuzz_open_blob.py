"""Fuzz `Codec.open`: arbitrary bytes as a blob, and as the plaintext of an authentic blob.

Each input is used twice:

1. decoded to text (every byte sequence maps to some string) and opened by the encrypted and
   the signed codec: anything but the library's own errors is a finding, and so is a blob
   that opens with a token we never minted (a forgery);
2. sealed as the plaintext of an *authentic* signed blob under the fixed key, then opened:
   the decoding of verified plaintexts (flags, lengths, token, deflated action JSON) must
   fail only with the library's errors too, and what it accepts must seal and open back to
   the same claims.

Run: ``python fuzz/fuzz_open_blob.py [libFuzzer flags] [corpus dirs]``.
"""

from __future__ import annotations

import sys

import _common
from _common import CODECS, FIXED_NOW, KNOWN_TOKENS, Mode, SfnCallbackUrlsError


def test_one_input(data: bytes) -> None:
    """Open ``data`` as a blob, then as an authentic plaintext."""
    text = _common.text_of(data)
    for codec in CODECS.values():
        try:
            claims = codec.open(text, now=FIXED_NOW)
        except SfnCallbackUrlsError:
            continue
        if claims.token not in KNOWN_TOKENS:
            raise AssertionError(f"a blob we never minted opened: {text!r}")

    signed = CODECS[Mode.SIGNED]
    try:
        blob = _common.seal_signed_plaintext(data)
    except ValueError:  # not a finding: a plaintext too long for any blob is refused later
        return
    try:
        claims = signed.open(blob, check_expiry=False)
    except SfnCallbackUrlsError:
        return
    try:
        again = signed.open(signed.seal(claims), check_expiry=False)
    except SfnCallbackUrlsError:  # e.g. too large to re-seal under the length limit
        return
    if again != claims:
        raise AssertionError(f"claims changed across seal/open: {claims!r} != {again!r}")


if __name__ == "__main__":
    _common.fuzz_main(test_one_input, sys.argv)
