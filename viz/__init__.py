"""The browser app (Solara): watch, steer and compare strategies."""
