"""Market data adapters: quote, FX and history sources (Yahoo, Stooq, JPX, funds,
Frankfurter, paid), their resilience wrappers and the trading-calendar tables.

Each source module imports its heavy SDK (yfinance and so pandas) inside the methods that
need it, so importing this package stays cheap."""
