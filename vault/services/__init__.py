"""The domain: plain functions taking explicit arguments (session, keys, clock)."""
