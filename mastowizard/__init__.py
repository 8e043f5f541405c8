"""mastowizard: move a Mastodon instance's media to S3, and prove it works."""

__version__ = "0.1.0"
