"""PortfolioWise backend: domain core, adapters and handlers."""

__version__ = "0.1.0"
