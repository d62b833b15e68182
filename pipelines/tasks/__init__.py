"""The task table: ``{task name: Task}``, the one place a new task is added.

Each task is one module here (see `pipelines.tasks.base`); its data module
lives in ``data/`` and its model factory in ``models/``.
"""

from pipelines.tasks import (
    captioning,
    classify,
    faces,
    forecast,
    ocr,
    search,
    sentiment,
    speech_commands,
    speech_digits,
    tagging,
    transfer,
    translation,
)
from pipelines.tasks.base import Task, TaskDefaults

TASKS: dict[str, Task] = {
    module.TASK.name: module.TASK
    for module in (
        classify,
        transfer,
        sentiment,
        tagging,
        forecast,
        translation,
        captioning,
        search,
        ocr,
        speech_commands,
        speech_digits,
        faces,
    )
}

__all__ = ["TASKS", "Task", "TaskDefaults"]
