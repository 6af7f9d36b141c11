"""The HTTP API: one Powertools resolver over the routers of each concern (portfolio,
market, auth), shared by the Lambda functions and the local server."""
