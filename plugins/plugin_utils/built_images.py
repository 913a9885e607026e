"""The names BinderHub gives the images it builds, so a hub's spawn form can be checked to
accept them.

BinderHub (binderhub/builder.py at the version binderhub-service runs) names a build of a
repository ``<image_prefix><safe slug>:<ref>``, all lowercase with ``_`` made ``-``. The safe
slug escapes every character of the provider's build slug that is not an ASCII letter or
digit as ``-`` and its UTF-8 bytes in uppercase hex (escapism's scheme with ``-`` as escape
character), keeps at most ``255 - len(image_prefix) - 7`` characters of that and appends ``-``
and the first six hex digits of the sha256 of the unescaped slug. The GitHub provider's
build slug is ``<owner>-<repository>``; its ref is the resolved commit sha.
"""

from __future__ import annotations

import hashlib
import string

SAFE = frozenset(string.ascii_letters + string.digits)
# What a hub's users build most: a GitHub repository at a commit.
EXAMPLE_REPOSITORY = "binder-examples/requirements"
EXAMPLE_REF = "6e1d0a7bb8d1e7c8a6f4e0f2b7f3f0c0a9d1e2f3"


def escaped(slug: str) -> str:
    """``slug`` with each character outside ASCII letters and digits as ``-XX`` per UTF-8 byte."""
    return "".join(c if c in SAFE else "".join(f"-{byte:X}" for byte in c.encode("utf-8")) for c in slug)


def safe_build_slug(slug: str, limit: int, hash_length: int = 6) -> str:
    digest = hashlib.sha256(slug.encode("utf-8")).hexdigest()[:hash_length]
    return f"{escaped(slug)[: limit - hash_length - 1]}-{digest}".lower()


def built_image_name(image_prefix: str, build_slug: str, ref: str) -> str:
    """The image name BinderHub pushes a build of ``build_slug`` at ``ref`` to."""
    slug = safe_build_slug(build_slug, limit=255 - len(image_prefix))
    return f"{image_prefix}{slug}:{ref}".replace("_", "-").lower()


def github_example(image_prefix: str) -> str:
    """The name of a build of a typical GitHub repository at a commit."""
    owner, repository = EXAMPLE_REPOSITORY.split("/")
    return built_image_name(image_prefix, f"{owner}-{repository}", EXAMPLE_REF)
