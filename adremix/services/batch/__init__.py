"""Operator tools that run the generation services outside the web app, without credits."""

from adremix.services.batch.remix import (
    BatchResult,
    BrandFileError,
    load_brand_file,
    remix_to_folder,
)

__all__ = ["BatchResult", "BrandFileError", "load_brand_file", "remix_to_folder"]
