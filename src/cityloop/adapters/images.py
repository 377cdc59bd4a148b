"""Photos: type sniffed from the bytes, EXIF position read then stripped, thumbnails made.

JPEG, PNG, WebP and HEIC/HEIF are taken; the type is decided by the file's content, never by
its name or declared type. Every photo is decoded and re-encoded without metadata (EXIF carries
the phone's position, serial numbers and times: privacy), upright per its EXIF orientation.
HEIC, which browsers cannot show, is converted to JPEG. A 320-pixel JPEG thumbnail is made.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from cityloop.domain.errors import TooLargeError, UnsupportedMediaError

try:  # HEIC support is optional at import time, required at run time for HEIC uploads
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIC_OK = True
except ImportError:  # pragma: no cover - the lock installs pillow-heif
    HEIC_OK = False

MAX_PIXELS = 60_000_000
THUMB_SIDE = 320
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


def sniff(data: bytes) -> str | None:
    """The image type of ``data`` from its signature, or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


@dataclass(frozen=True, slots=True)
class Photo:
    data: bytes
    content_type: str
    suffix: str
    thumbnail: bytes
    width: int
    height: int
    exif_lon: float | None
    exif_lat: float | None


def _degrees(value: object, ref: object) -> float | None:
    try:
        d, m, s = (float(x) for x in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = d + m / 60 + s / 3600
    return -result if ref in ("S", "W", b"S", b"W") else result


def exif_position(image: Image.Image) -> tuple[float, float] | None:
    """(lon, lat) from the EXIF GPS block, if it has a usable one."""
    try:
        gps = image.getexif().get_ifd(0x8825)
    except Exception:
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat = _degrees(gps.get(2), gps.get(1))
    lon = _degrees(gps.get(4), gps.get(3))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:
        return None
    return round(lon, 7), round(lat, 7)


def _thumbnail(rgb: Image.Image) -> bytes:
    """The JPEG thumbnail of RGB pixels (``rgb`` is shrunk in place)."""
    rgb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=80)
    return out.getvalue()


def thumbnail_of(photo: bytes) -> bytes:
    """The thumbnail of a stored (already cleaned) photo, made again when its file is lost."""
    with Image.open(io.BytesIO(photo)) as image:
        image.draft("RGB", (THUMB_SIDE, THUMB_SIDE))  # JPEG: decode at a fraction of the size
        return _thumbnail(image.convert("RGB"))


def process_photo(data: bytes, *, max_bytes: int) -> Photo:
    """Check, clean and thumbnail one uploaded photo."""
    if len(data) > max_bytes:
        raise TooLargeError(
            "file_too_large",
            "A file may have at most {limit} MB; this one has {size} MB",
            limit=round(max_bytes / 1_048_576, 1),
            size=round(len(data) / 1_048_576, 1),
        )
    kind = sniff(data)
    if kind is None or (kind == "image/heic" and not HEIC_OK):
        raise UnsupportedMediaError(
            "unsupported_media_type", "Only JPEG, PNG, WebP and HEIC photos are accepted"
        )
    try:
        source = Image.open(io.BytesIO(data))
        if source.width * source.height > MAX_PIXELS:
            raise TooLargeError(
                "image_too_large",
                "A photo may have at most {limit} million pixels",
                limit=MAX_PIXELS // 1_000_000,
            )
        position = exif_position(source)
        # Upright in place: a copy of a 12-megapixel photo costs about 10 ms.
        ImageOps.exif_transpose(source, in_place=True)
        image = source
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedMediaError(
            "image_unreadable", "The photo could not be read; it may be damaged"
        ) from exc
    # The RGB pixels, converted once (convert() copies even when the mode is already RGB).
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    out = io.BytesIO()
    if kind == "image/png":
        image.save(out, format="PNG", optimize=True)
        content_type, suffix = "image/png", ".png"
    elif kind == "image/webp":
        image.save(out, format="WEBP", quality=90)
        content_type, suffix = "image/webp", ".webp"
    else:  # JPEG, and HEIC converted to JPEG
        rgb.save(out, format="JPEG", quality=90)
        content_type, suffix = "image/jpeg", ".jpg"
    return Photo(
        data=out.getvalue(),
        content_type=content_type,
        suffix=suffix,
        thumbnail=_thumbnail(rgb.copy() if rgb is image else rgb),
        width=image.width,
        height=image.height,
        exif_lon=position[0] if position else None,
        exif_lat=position[1] if position else None,
    )
