"""Moving an existing instance's media: the inventory of the tree on disk, the exact objects
Mastodon would have stored, the copy (concurrent, resumable, idempotent) and its verification."""
