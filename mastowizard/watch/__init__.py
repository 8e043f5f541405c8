"""Keep watching: the checklist on a timer, compared with a saved baseline, as lines for cron's mail,
a JSON document and Prometheus metrics; and the units, crontab line and Compose service that run it."""
