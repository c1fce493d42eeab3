"""The privacy officer's desk (/admin): requests, retention, users, erasure, export, audit."""
