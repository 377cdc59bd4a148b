"""Real image bytes for upload tests."""

from __future__ import annotations

import io
import os

from PIL import Image


def photo(
    fmt: str = "JPEG",
    *,
    gps: tuple[float, float] | None = None,
    size: tuple[int, int] = (640, 480),
    noise: bool = False,
) -> bytes:
    """An image in ``fmt``; with ``gps`` (lon, lat) written into its EXIF, plus a camera make.
    ``noise`` fills it with random pixels, so that it does not compress."""
    image = (
        Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
        if noise
        else Image.new("RGB", size, (180, 120, 60))
    )
    exif = image.getexif()
    exif[0x010F] = "TestPhone"
    if gps is not None:
        lon, lat = gps

        def dms(value: float) -> tuple[float, float, float]:
            degrees = int(value)
            minutes = int((value - degrees) * 60)
            seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
            return float(degrees), float(minutes), seconds

        exif.get_ifd(0x8825).update({1: "N", 2: dms(lat), 3: "E", 4: dms(lon)})
    out = io.BytesIO()
    if fmt == "HEIF":
        import pillow_heif  # noqa: F401 - registers the HEIF writer

        image.save(out, format="HEIF", quality=70, exif=exif.tobytes())
    else:
        image.save(out, format=fmt, exif=exif.tobytes()) if fmt != "PNG" else image.save(
            out, format="PNG"
        )
    return out.getvalue()
