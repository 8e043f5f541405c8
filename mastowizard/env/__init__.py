"""The instance's .env.production: read, plan the S3 change, apply with a backup, roll back."""

DEFAULT_ENV_FILE = "/home/mastodon/live/.env.production"     # a source install's, as Mastodon's guide makes it
