"""Glue jobs and crawlers that really run on the local cloud."""
