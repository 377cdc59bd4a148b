"""Request bodies that come as JSON or as multipart (a ``data`` part with the JSON and
``photos`` parts with the files)."""

from __future__ import annotations

import asyncio
import json
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import UploadFile

from cityloop.adapters.images import Photo, process_photo
from cityloop.bootstrap import Container
from cityloop.config import Settings
from cityloop.domain.errors import TooLargeError, UnsupportedMediaError, ValidationError
from cityloop.services.cases import MAX_ATTACHMENTS, NewAttachment
from cityloop.services.ports import FileStore, StoredFile

M = TypeVar("M", bound=BaseModel)


def check_length(request: Request, settings: Settings) -> None:
    length = request.headers.get("content-length")
    limit = int(settings.max_request_mb * 1_048_576)
    if length is not None and length.isdigit() and int(length) > limit:
        raise TooLargeError(
            "request_too_large",
            "The request has {size} MB; at most {limit} MB are accepted",
            size=round(int(length) / 1_048_576, 1),
            limit=settings.max_request_mb,
        )


def _validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


def _prepare(raw: bytes, max_bytes: int, files: FileStore) -> tuple[Photo, StoredFile, StoredFile]:
    """Clean one photo and write it and its thumbnail to the file store (in the container's
    photo threads: decoding, hashing and the files' fsync stay off the event loop)."""
    photo = process_photo(raw, max_bytes=max_bytes)
    stored = files.store(photo.data, suffix=photo.suffix)
    # The thumbnail can be made again from the photo: not flushed (routes/cases.py).
    return photo, stored, files.store(photo.thumbnail, suffix=".jpg", durable=False)


async def read_photos(uploads: list[UploadFile], container: Container) -> list[NewAttachment]:
    """Check, clean (EXIF position read, then stripped) and thumbnail uploaded photos, and
    store them (content-addressed: a photo whose action then fails leaves a file nothing
    points to, never an action whose file is missing)."""
    settings = container.settings
    uploads = [u for u in uploads if u.filename or u.size]
    if len(uploads) > MAX_ATTACHMENTS:
        raise ValidationError(
            "too_many_attachments",
            "At most {limit} files may be attached at once; got {count}",
            limit=MAX_ATTACHMENTS,
            count=len(uploads),
        )
    photos = []
    max_bytes = int(settings.max_upload_mb * 1_048_576)
    for upload in uploads:
        raw = await upload.read(max_bytes + 1)
        photo, stored, thumbnail = await asyncio.get_running_loop().run_in_executor(
            container.photo_threads, _prepare, raw, max_bytes, container.files
        )
        stem = (upload.filename or "photo").rsplit(".", 1)[0][:150] or "photo"
        photos.append(
            NewAttachment(
                filename=stem + photo.suffix,
                content_type=photo.content_type,
                data=photo.data,
                thumbnail=photo.thumbnail,
                exif_lon=photo.exif_lon,
                exif_lat=photo.exif_lat,
                stored=stored,
                thumbnail_stored=thumbnail,
            )
        )
    return photos


async def read_body(
    request: Request, model: type[M], container: Container
) -> tuple[M, list[NewAttachment]]:
    check_length(request, container.settings)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("", "application/json"):
        raw = await request.body()
        try:
            return model.model_validate_json(raw or b"{}"), []
        except PydanticValidationError as exc:
            if any(e.get("type") == "json_invalid" for e in exc.errors()):
                raise ValidationError("json_invalid", "The request body is not valid JSON") from exc
            raise RequestValidationError(exc.errors()) from exc
    if content_type == "multipart/form-data":
        form = await request.form(max_files=MAX_ATTACHMENTS + 1, max_fields=50)
        text = form.get("data")
        if isinstance(text, UploadFile):
            text = (await text.read()).decode("utf-8", "replace")
        try:
            data = json.loads(text) if text else {}
        except ValueError as exc:
            raise ValidationError(
                "json_invalid", "The data part of the request is not valid JSON"
            ) from exc
        body = _validate(model, data)
        uploads = [f for f in form.getlist("photos") if isinstance(f, UploadFile)]
        photos = await read_photos(uploads, container)
        return body, photos
    raise UnsupportedMediaError(
        "content_type_unsupported",
        "Send JSON (application/json) or multipart/form-data, not {type}",
        type=content_type,
    )
