"""Pure logic: no network, processes, Kubernetes or terminal code in here."""
