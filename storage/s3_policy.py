"""The S3 permissions eAkte's service identity needs, and nothing more.

The same list is the identity policy of the embedded SeaweedFS (:mod:`storage.embedded`) and
the policy the README gives for an external S3 (MinIO, AWS, Ceph). Deliberately absent:

- ``s3:BypassGovernanceRetention`` (eAkte locks in COMPLIANCE mode and never bypasses);
- ``s3:DeleteBucket``, ``s3:PutBucketObjectLockConfiguration``, ``s3:PutBucketVersioning``,
  ``s3:PutLifecycleConfiguration``, ``s3:PutBucketPolicy``: nothing that changes how the
  bucket protects what it holds, or expires it;
- any administrative right.

``s3:CreateBucket`` stays: ``eakte init``/``serve`` create the bucket (with Object Lock) on
first use. Creating a bucket cannot touch an existing one, so no separate set-up identity is
needed. ``s3:DeleteObject``/``s3:DeleteObjectVersion`` stay for disposal: the server refuses
them for every version whose lock has not run out. ``s3:PutObjectLegalHold`` stays for
releasing legal holds; every version beneath a hold also keeps a COMPLIANCE floor, so a
released hold does not make a record deletable at once.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SERVICE_ACTIONS", "service_policy"]

SERVICE_ACTIONS = (
    "s3:ListAllMyBuckets",
    "s3:CreateBucket",
    "s3:GetBucketLocation",
    "s3:GetBucketVersioning",
    "s3:GetBucketObjectLockConfiguration",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "s3:GetObjectRetention",
    "s3:PutObjectRetention",
    "s3:GetObjectLegalHold",
    "s3:PutObjectLegalHold",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
)


def service_policy(bucket: str = "*") -> dict[str, Any]:
    """An IAM policy document granting :data:`SERVICE_ACTIONS` on ``bucket`` (all by
    default) and its objects."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": list(SERVICE_ACTIONS),
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }
