"""From a picked file to stored bytes: reading it within the limit, checking and re-encoding
it off the event loop a few at a time, putting the copies on the store (and taking them off
again when their row is not kept)."""

from __future__ import annotations

import anyio
import anyio.to_thread
from litestar.datastructures import UploadFile

from portal.attachments.processing import Processed, process_upload
from portal.attachments.storage import AttachmentStore, new_key

UPLOAD_WORK_SLOTS = 2
"""Files checked and re-encoded at once in one process (the rest wait their turn without
holding a thread): each may hold up to ``processing.DECODE_BUDGET`` while it is decoded, so a
burst of uploads costs at most two files' worth of memory per worker process."""
_upload_work = anyio.CapacityLimiter(UPLOAD_WORK_SLOTS)


async def processed_upload(data: bytes, max_bytes: int) -> Processed:
    """Decoding and re-encoding take CPU time and memory: off the event loop, so other
    citizens wait for nothing, and a few at a time (``UPLOAD_WORK_SLOTS``)."""
    return await anyio.to_thread.run_sync(
        lambda: process_upload(data, max_bytes=max_bytes), limiter=_upload_work
    )


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """The picked file's bytes, at most one more than ``max_bytes``: Litestar has spooled the
    part to a temporary file as it arrived, and a file over the limit is refused
    (``too_large``) without being read into memory whole."""
    return await upload.read(max_bytes + 1)


def _put(store: AttachmentStore, processed: Processed) -> tuple[str, str]:
    key = new_key(processed.extension)
    store.put(key, processed.data)
    preview_key = ""
    if processed.preview is not None:
        preview_key = new_key("jpg")
        store.put(preview_key, processed.preview)
    return key, preview_key


async def store_processed(store: AttachmentStore, processed: Processed) -> tuple[str, str]:
    """The kept copy and its preview on the store (off the event loop): their keys, the
    preview's empty for a PDF."""
    return await anyio.to_thread.run_sync(lambda: _put(store, processed))


def forget_files(store: AttachmentStore, *keys: str) -> None:
    """Delete the files of a row that is gone (or never saved); empty keys are skipped."""
    for key in keys:
        if key:
            store.delete(key)
