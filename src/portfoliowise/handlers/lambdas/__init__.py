"""AWS Lambda entry points: each module builds its resolver once, at import."""
