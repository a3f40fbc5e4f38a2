"""A pydicom decoder plugin backed by imagecodecs (BSD-3-Clause).

pydicom reads the dataset, splits encapsulated frames and applies its own post-processing
(sign, Bits Stored, photometric bookkeeping); this plugin only turns one compressed frame into
native pixel bytes.  imagecodecs bundles libjpeg-turbo 3 (JPEG baseline, extended 12-bit and
lossless), CharLS (JPEG-LS) and OpenJPEG (JPEG 2000), so one permissive wheel covers every
compressed transfer syntax CobbDesk needs; RLE stays with pydicom's own numpy decoder.

Use :func:`register` once (idempotent), then ask pydicom for the ``"imagecodecs"`` plugin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydicom import uid
from pydicom.pixels import get_decoder

PLUGIN = "imagecodecs"

_JPEG = (uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit, uid.JPEGLossless, uid.JPEGLosslessSV1)
_JPEGLS = (uid.JPEGLSLossless, uid.JPEGLSNearLossless)
_J2K = (uid.JPEG2000Lossless, uid.JPEG2000)

DECODER_DEPENDENCIES = dict.fromkeys((*_JPEG, *_JPEGLS, *_J2K), ("imagecodecs>=2024.1.1",))

#: Transfer syntaxes this plugin decodes, by UID.
SUPPORTED = frozenset(DECODER_DEPENDENCIES)


def is_available(tsyntax: str) -> bool:
    """True when imagecodecs is importable and has a codec for ``tsyntax``."""
    try:
        import imagecodecs
    except ImportError:  # pragma: no cover - imagecodecs is a hard dependency
        return False
    if tsyntax in _JPEG:
        return bool(imagecodecs.JPEG8.available)
    if tsyntax in _JPEGLS:
        return bool(imagecodecs.JPEGLS.available)
    if tsyntax in _J2K:
        return bool(imagecodecs.JPEG2K.available)
    return False


def _decode_array(src: bytes, tsyntax: str) -> Any:
    import imagecodecs

    if tsyntax in _JPEG:
        return imagecodecs.jpeg8_decode(src)
    if tsyntax in _JPEGLS:
        return imagecodecs.jpegls_decode(src)
    return imagecodecs.jpeg2k_decode(src, numthreads=2)


def _decode_frame(src: bytes, runner: Any) -> bytes:
    """pydicom plugin entry point: one encoded frame -> native little-endian bytes."""
    arr = np.asarray(_decode_array(src, runner.transfer_syntax))
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    # The codecs return colour as RGB interleaved (colour transforms already undone).
    if arr.ndim == 3:
        runner.set_option("planar_configuration", 0)
        if str(runner.photometric_interpretation).startswith("YBR"):
            runner.set_option("photometric_interpretation", "RGB")
    # The container size follows the codestream precision, not always Bits Allocated.
    runner.set_option("bits_allocated", arr.dtype.itemsize * 8)
    return np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()


def register() -> None:
    """Add the plugin to pydicom's decoders for every supported transfer syntax (idempotent)."""
    for tsyntax in SUPPORTED:
        try:
            get_decoder(tsyntax).add_plugin(PLUGIN, (__name__, "_decode_frame"))
        except ValueError:  # already registered
            continue
