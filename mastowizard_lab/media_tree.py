"""A Mastodon-shaped public/system tree for tests, the demo and benchmarks: every attachment class,
id-partitioned paths, styles, sizes like a real instance (many small previews and avatars, a few
large videos), the cache/ mirror of remote media, some suspended-account files at 0600, a user's
archive under backups/ and an old import under imports/."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

# (share of files, path template, styles, extensions with weights, size range in bytes)
KINDS = [
    (0.30, "media_attachments/files", ("original", "small"), [("jpg", 6), ("png", 3), ("gif", 1)], (20_000, 400_000)),
    (0.02, "media_attachments/files", ("original", "small"), [("mp4", 1)], (400_000, 3_000_000)),
    (0.02, "media_attachments/files", ("original",), [("mp3", 2), ("ogg", 1), ("m4a", 1), ("flac", 1), ("opus", 1)],
     (100_000, 800_000)),
    (0.15, "accounts/avatars", ("original", "static"), [("png", 3), ("jpg", 2), ("gif", 1)], (5_000, 60_000)),
    (0.07, "accounts/headers", ("original",), [("jpg", 3), ("png", 1)], (30_000, 200_000)),
    (0.05, "custom_emojis/images", ("original", "static"), [("png", 1)], (2_000, 20_000)),
    (0.10, "preview_cards/images", ("original",), [("jpg", 3), ("png", 1), ("webp", 1)], (5_000, 60_000)),
    (0.01, "site_uploads/files", ("original", "@2x"), [("png", 1)], (10_000, 80_000)),
    (0.18, "cache/media_attachments/files", ("original", "small"), [("jpg", 4), ("png", 1), ("webp", 1)],
     (10_000, 200_000)),
    (0.10, "cache/accounts/avatars", ("original", "static"), [("png", 2), ("jpg", 2)], (4_000, 40_000)),
]


@dataclass
class Tree:
    root: Path
    files: list[str] = field(default_factory=list)      # relative paths
    private: list[str] = field(default_factory=list)    # 0600 on disk, backups/, imports/
    bytes: int = 0


def _partition(n: int) -> str:
    s = f"{n:018d}"
    return "/".join(s[i:i + 3] for i in range(0, 18, 3))


def _body(rng: random.Random, ext: str, size: int) -> bytes:
    magic = {"png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff\xe0", "gif": b"GIF89a", "webp": b"RIFF\0\0\0\0WEBP",
             "mp4": b"\0\0\0\x18ftypmp42", "mp3": b"ID3\x03", "ogg": b"OggS", "opus": b"OggS", "flac": b"fLaC",
             "m4a": b"\0\0\0\x18ftypM4A ", "zip": b"PK\x03\x04"}.get(ext, b"")
    return magic + rng.randbytes(max(0, size - len(magic)))


def make_tree(root: Path, files: int = 300, seed: int = 1, suspended: int = 6, max_bytes: int | None = None,
              big: int = 0, id_step: int = 10_000_000) -> Tree:
    """About FILES files under ROOT (public/system); SUSPENDED media attachments chmod 0600, one
    backup archive and one import; BIG extra videos above Mastodon's 15 MB multipart threshold.
    Record ids grow by up to ID_STEP each: the default keeps them within a few id partitions; about
    2**16 * 3,600,000 spreads them as an hour of snowflake ids each (shards need many partitions)."""
    rng = random.Random(seed)
    tree = Tree(root)
    ident = 109_000_000_000_000_000

    def write(rel: str, data: bytes, mode: int = 0o644) -> None:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        os.chmod(p, mode)
        tree.files.append(rel)
        tree.bytes += len(data)
        if mode & 0o077 == 0 or rel.startswith(("backups/", "imports/")):
            tree.private.append(rel)

    made = 0
    while made < files:
        share, base, styles, exts, (lo, hi) = rng.choices(KINDS, weights=[k[0] for k in KINDS])[0]
        ident += rng.randrange(1, id_step)
        ext = rng.choices([e for e, _ in exts], weights=[w for _, w in exts])[0]
        name = f"{rng.getrandbits(64):016x}.{ext}"
        for style in styles:
            size = rng.randrange(lo, hi) if style in ("original", "@2x") else rng.randrange(3_000, 30_000)
            if max_bytes:
                size = min(size, max_bytes)
            sext = "png" if style == "static" else ("jpg" if style == "small" and ext in ("mp4", "gif") else ext)
            stem = name.rsplit(".", 1)[0]
            mode = 0o600 if suspended and base == "media_attachments/files" and rng.random() < 0.05 else 0o644
            write(f"{base}/{_partition(ident)}/{style}/{stem}.{sext}", _body(rng, sext, size), mode)
            made += 1
    # at least SUSPENDED 0600 files, whatever the draw
    shy = [r for r in tree.files if r.startswith("media_attachments/") and r not in tree.private]
    for rel in shy[:max(0, suspended - len(tree.private))]:
        os.chmod(root / rel, 0o600)
        tree.private.append(rel)
    write(f"backups/dumps/{_partition(ident + 1)}/original/archive-20261101-{rng.getrandbits(32):08x}.zip",
          _body(rng, "zip", 50_000))
    write(f"imports/data/{_partition(ident + 2)}/original/following_accounts.csv",
          b"Account address,Show boosts\nalice@example.com,true\n")
    for i in range(big):
        write(f"media_attachments/files/{_partition(ident + 10 + i)}/original/{rng.getrandbits(64):016x}.mp4",
              _body(rng, "mp4", 16 * 1024 * 1024 + rng.randrange(1, 1_000_000)))
    return tree
