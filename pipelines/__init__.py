"""What a user runs: MLflow entry points, the CLI and their pipeline functions."""
