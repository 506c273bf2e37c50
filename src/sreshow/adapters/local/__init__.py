"""The `local` platform: real processes on 127.0.0.1, no cloud, no Docker."""
