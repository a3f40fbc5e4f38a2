"""The one place where numpy arrays become Qt images."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PySide6.QtGui import QImage


def to_qimage(image: npt.NDArray[np.uint8]) -> QImage:
    """Wrap a 2-D ``uint8`` array as a Grayscale8 QImage without copying.

    The QImage shares the array's memory; the caller keeps the array alive as long as the
    image (``FilmItem`` stores both together).
    """
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError(f"expected a 2-D uint8 array, got {image.dtype} {image.shape}")
    if not image.flags.c_contiguous:
        image = np.ascontiguousarray(image)
    rows, columns = image.shape
    return QImage(image.data, columns, rows, image.strides[0], QImage.Format.Format_Grayscale8)
