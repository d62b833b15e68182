"""What tests read back from MLflow runs."""


def artifact_paths(client, run_id, path=""):
    """Every artifact file a run logged under ``path``, as paths relative to the run's root."""
    paths = []
    for item in client.list_artifacts(run_id, path):
        paths.extend(artifact_paths(client, run_id, item.path) if item.is_dir else [item.path])
    return paths
