"""The instance's .env.production: read, plan the S3 change, apply with a backup, roll back."""
