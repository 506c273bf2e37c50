"""The `kubernetes` platform: sreshow's stack on any cluster a kubeconfig context names."""
