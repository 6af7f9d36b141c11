"""Bytes to text: UTF-8 (with or without a byte-order mark) or Shift-JIS.

Japanese brokers export CSV in Shift-JIS, in practice Microsoft's code page 932 (CP932:
Shift-JIS plus the NEC and IBM extensions such as ① and ㈱, which Excel writes too).
The bytes are decoded as strict UTF-8 first, then as strict CP932: Japanese text in CP932
is almost never valid UTF-8 (its lead bytes 0x81-0x9F are UTF-8 continuation bytes), so
the order cannot mistake one for the other. UTF-16 (Excel's "Unicode text") is refused
with a hint. Text with NUL or other control characters (besides tab, CR and LF) is not a
text file and is refused too: bytes that CP932 happens to decode are still garbage."""

from __future__ import annotations

import codecs
import re
from typing import Final

from portfoliowise.adapters.ledger_files.model import MAX_LEDGER_BYTES
from portfoliowise.adapters.portfolio_files import FileFormatError
from portfoliowise.domain.errors import PayloadTooLarge

UTF8: Final = "utf-8"
UTF8_BOM: Final = "utf-8-sig"
CP932: Final = "cp932"

_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def check_size(data: bytes, limit: int = MAX_LEDGER_BYTES) -> None:
    """Refuse a file over `limit` bytes before reading any of it."""
    if len(data) > limit:
        raise PayloadTooLarge(f"the file is {len(data):,} bytes, over the limit of {limit:,} bytes")


def decode(data: bytes) -> tuple[str, str]:
    """The text of `data` and the encoding it was read in (`utf-8`, `utf-8-sig`, `cp932`)."""
    if not isinstance(data, bytes | bytearray):
        raise FileFormatError("expected the file's bytes")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileFormatError("UTF-16 text is not read: save the file as CSV (UTF-8 or Shift-JIS)")
    if data.startswith(codecs.BOM_UTF8):
        try:
            text, encoding = bytes(data[3:]).decode(UTF8), UTF8_BOM
        except UnicodeDecodeError as exc:
            raise FileFormatError(
                f"starts with a UTF-8 byte-order mark but is not UTF-8 (byte {exc.start + 3})"
            ) from None
    else:
        try:
            text, encoding = bytes(data).decode(UTF8), UTF8
        except UnicodeDecodeError as utf8_error:
            try:
                text, encoding = bytes(data).decode(CP932), CP932
            except UnicodeDecodeError:
                raise FileFormatError(
                    "not UTF-8 or Shift-JIS (CP932) text "
                    f"(byte {utf8_error.start} is not UTF-8, and the bytes are not CP932)"
                ) from None
    bad = _CONTROL.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise FileFormatError(
            f"not a text file: control character U+{ord(bad.group()):04X} on line {line}"
        )
    return text, encoding
