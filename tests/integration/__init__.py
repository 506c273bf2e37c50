"""The local platform on real processes: HAProxy, the app, the monitoring stack."""
