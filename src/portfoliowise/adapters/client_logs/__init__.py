"""Where the web app's console entries go: a JSON-lines file locally, CloudWatch Logs in AWS."""
