"""Reading a request body into memory with a size cap, and multipart/form-data without spooling
to disk (Starlette's form parser spools large files to a temporary file)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import HTTPException, Request, status
from python_multipart.multipart import MultipartParser, parse_options_header


def too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"upload larger than the limit of {limit / 2**20:g} MB (MAX_UPLOAD_MB)",
    )


async def read_capped(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class _Part:
    """The part being read: its headers so far and its bytes."""

    headers: dict[bytes, bytes] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)
    header_field: bytes = b""
    header_value: bytes = b""


def parse_multipart(body: bytes, content_type: str) -> dict[str, tuple[str | None, bytes]]:
    """field name → (filename or None, bytes), all in memory."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise HTTPException(422, "multipart body without a boundary")
    parts: dict[str, tuple[str | None, bytes]] = {}
    part = _Part()

    def on_part_begin() -> None:
        nonlocal part
        part = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part.header_value += data[start:end]

    def on_header_end() -> None:
        part.headers[part.header_field.lower()] = part.header_value
        part.header_field, part.header_value = b"", b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part.data.extend(data[start:end])

    def on_part_end() -> None:
        _, opts = parse_options_header(part.headers.get(b"content-disposition", b""))
        name = opts.get(b"name", b"").decode("utf-8", "replace")
        filename = opts.get(b"filename")
        shown = filename.decode("utf-8", "replace") if filename is not None else None
        parts[name] = (shown, bytes(part.data))

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except Exception as err:
        raise HTTPException(422, f"malformed multipart body: {err}") from None
    return parts
