"""The MLflow pyfunc model of an export: TensorFlow and MLflow only, no convseq.

Logged as an MLflow "model from code": this file travels inside the MLflow
model and `mlflow.models.set_model` registers `SavedModelServer`, so
``mlflow models serve`` and ``mlflow.pyfunc.load_model`` run the export's
``serving_default`` signature without importing convseq. The export folder
is the model's ``saved_model`` artifact.
"""

from __future__ import annotations

import mlflow
import numpy as np


def _as_array(model_input):
    """The single input of a request as a NumPy array (lists, dicts, DataFrames)."""
    if hasattr(model_input, "columns"):  # a pandas DataFrame of one column
        model_input = model_input.iloc[:, 0].to_numpy()
    elif isinstance(model_input, dict):
        if len(model_input) != 1:
            raise ValueError(f"Expected one input, got {sorted(model_input)}.")
        model_input = next(iter(model_input.values()))
    return np.asarray(model_input)


class SavedModelServer(mlflow.pyfunc.PythonModel):
    """Calls an exported SavedModel's ``serving_default`` signature on each request."""

    def load_context(self, context):
        import tensorflow as tf

        self._tf = tf
        self._loaded = tf.saved_model.load(context.artifacts["saved_model"])
        self._signature = self._loaded.signatures["serving_default"]
        ((self._input_name, self._input_spec),) = self._signature.structured_input_signature[
            1
        ].items()

    # The annotation is MLflow's "no schema from type hints" marker: without one, MLflow
    # warns at class creation on every run, from inside its own catch_warnings (no filter
    # of ours can hide it). Pyfunc hands a tensor-signature model NumPy arrays; lists,
    # dicts and DataFrames work too (`_as_array`).
    def predict(self, context, model_input: np.ndarray, params=None):
        """Outputs by name; strings decoded to ``str``.

        Raises:
            ValueError: If the input's rank or size does not fit the
                signature (the scoring server answers HTTP 400 with it).
        """
        array = _as_array(model_input)
        spec = self._input_spec
        if spec.dtype == self._tf.string:
            array = array.astype(str).astype(object)
        elif array.dtype.kind in "OU":
            raise ValueError(f"Input {self._input_name!r} takes {spec.dtype.name} numbers.")
        if not spec.shape.is_compatible_with(array.shape):
            raise ValueError(
                f"Input {self._input_name!r} must have shape {spec.shape.as_list()} (None: any); "
                f"received shape {list(array.shape)}."
            )
        tensor = self._tf.constant(array, dtype=spec.dtype)
        outputs = self._signature(**{self._input_name: tensor})
        result = {}
        for name, value in outputs.items():
            value = value.numpy()
            if value.dtype.kind in "SO":
                value = np.vectorize(lambda v: v.decode("utf-8"), otypes=[object])(value)
            result[name] = value.tolist()
        return result


mlflow.models.set_model(SavedModelServer())
