"""The Mastodon host: this machine or one over SSH (files, commands), and restarting its services."""
