"""Blob stores (the `BlobStore` port): S3 buckets in AWS mode, files in the data directory
locally, with the same key layout (`daily/{YYYY-MM-DD}/{userId}/…`) in both."""

from portfoliowise.adapters.blobs.local import LocalBlobStore
from portfoliowise.adapters.blobs.s3 import S3BlobStore, s3_client

__all__ = ["LocalBlobStore", "S3BlobStore", "s3_client"]
