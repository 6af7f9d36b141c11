"""Routers by concern. Each module exposes `build_router(container) -> Router`."""
