"""Deterministic splits of one unsplit set into train, validation and test."""

from __future__ import annotations

import numpy as np

from common.validation import check_fraction


def shuffled_split_indices(
    n: int, validation_fraction: float, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded random train/validation/test indices of ``n`` examples.

    The same ``(n, fractions, seed)`` always gives the same split; each part
    is sorted so examples keep their file order within a split.

    Args:
        n: Number of examples.
        validation_fraction: Share for validation, in ``(0, 1)``.
        test_fraction: Share for test, in ``(0, 1)``.
        seed: Seed of the permutation.

    Returns:
        ``(train, validation, test)`` index arrays.

    Raises:
        ValueError: If a fraction is out of range or a part would be empty.
    """
    n_train, n_validation, _ = _part_sizes(n, validation_fraction, test_fraction)
    order = np.random.default_rng(seed).permutation(n)
    parts = (
        order[:n_train],
        order[n_train : n_train + n_validation],
        order[n_train + n_validation :],
    )
    return tuple(np.sort(part) for part in parts)


def chronological_split_indices(
    n: int, validation_fraction: float, test_fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, validation and test as consecutive blocks: the test part is the tail.

    Args:
        n: Number of time steps.
        validation_fraction: Share for validation (the block before the test tail).
        test_fraction: Share for test (the last steps).

    Returns:
        ``(train, validation, test)`` index arrays, in time order.

    Raises:
        ValueError: If a fraction is out of range or a part would be empty.
    """
    n_train, n_validation, _ = _part_sizes(n, validation_fraction, test_fraction)
    steps = np.arange(n)
    return (
        steps[:n_train],
        steps[n_train : n_train + n_validation],
        steps[n_train + n_validation :],
    )


def held_out_indices(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded ``(kept, held_out)`` indices: a validation split drawn from a training split.

    At least one example is held out; both parts are sorted.
    """
    check_fraction("validation_fraction", fraction)
    order = np.random.default_rng(seed).permutation(n)
    n_held = max(1, int(round(n * fraction)))
    return np.sort(order[n_held:]), np.sort(order[:n_held])


def _part_sizes(n: int, validation_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    check_fraction("validation_fraction", validation_fraction)
    check_fraction("test_fraction", test_fraction)
    n_test = int(round(n * test_fraction))
    n_validation = int(round(n * validation_fraction))
    n_train = n - n_test - n_validation
    if n_train < 1 or n_validation < 1 or n_test < 1:
        raise ValueError(
            f"{n} examples split into {max(n_train, 0)} train, {n_validation} validation and "
            f"{n_test} test; each part needs at least one. Use more data or other "
            "validation_fraction/test_fraction."
        )
    return n_train, n_validation, n_test


def grouped_split_indices(
    groups, validation_fraction: float, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded train/validation/test indices that keep each group (e.g. a speaker) in one part.

    Groups are shuffled, then dealt to test until it holds ``test_fraction``
    of the examples, then to validation until it holds ``validation_fraction``;
    the rest train. A model is thus tested on groups it never saw.

    Args:
        groups: The group of each example (any hashable values).
        validation_fraction: Share of examples for validation, in ``(0, 1)``.
        test_fraction: Share for test, in ``(0, 1)``.
        seed: Seed of the shuffle.

    Returns:
        ``(train, validation, test)`` sorted index arrays.

    Raises:
        ValueError: With fewer than 3 groups, or if a part would be empty.
    """
    check_fraction("validation_fraction", validation_fraction)
    check_fraction("test_fraction", test_fraction)
    groups = list(groups)
    names = sorted(set(groups), key=str)
    if len(names) < 3:
        raise ValueError(
            f"{len(names)} group(s) (speakers) cannot be split into train, validation and test "
            "by group; each part needs its own. Use data from at least 3 speakers."
        )
    members: dict = {}
    for index, group in enumerate(groups):
        members.setdefault(group, []).append(index)
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    parts: list[list[int]] = [[], [], []]  # test, validation, train
    targets = (test_fraction * len(groups), validation_fraction * len(groups))
    part = 0
    for remaining, group in zip(range(len(order), 0, -1), order, strict=True):
        while part < 2 and parts[part] and len(parts[part]) >= targets[part]:
            part += 1
        if part < 2 and remaining <= 2 - part:  # leave a group for every later part
            part += 1
        parts[part].extend(members[group])
    test, validation, train = (np.sort(np.asarray(p, dtype=np.int64)) for p in parts)
    return train, validation, test
