"""The bucket: the S3 client, the policy documents and their audit, setup with an admin key, and the probes."""
