"""tf.data input pipelines and the offline-first dataset catalog."""

from data.catalog import DataLocations, dataset_names, get_spec, load_dataset
from data.errors import DatasetUnavailableError
from data.image_folder import ImageFolder, load_image_folder
from data.pipeline import InputPipelines, build_input_pipelines
from data.specs import DatasetSpec
from data.splits_types import ImageSplit

__all__ = [
    "DataLocations",
    "DatasetSpec",
    "DatasetUnavailableError",
    "ImageFolder",
    "ImageSplit",
    "InputPipelines",
    "build_input_pipelines",
    "dataset_names",
    "get_spec",
    "load_image_folder",
    "load_dataset",
]
