"""The search run's figures: results grid and 2-D projection."""

import numpy as np

from pipelines.search_plots import projection_2d, projection_figure, results_grid_figure


def test_the_projection_keeps_the_directions_of_most_variance():
    rng = np.random.default_rng(0)
    spread = rng.normal(size=(200, 3)) * [10.0, 3.0, 0.1]
    rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    points = projection_2d(spread @ rotation.T)
    assert points.shape == (200, 2)
    np.testing.assert_allclose(points.std(axis=0), spread.std(axis=0)[:2], rtol=1e-3)


def test_figures_show_every_query_and_result_framed_by_correctness():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (3, 8, 8, 1), dtype=np.uint8)
    found = rng.integers(0, 256, (3, 4, 8, 8, 1), dtype=np.uint8)
    found_labels = np.array([[0, 1, 0, 0], [1, 1, 0, 1], [2, 2, 2, 2]])
    figure = results_grid_figure(
        images, np.array([0, 1, 2]), found, found_labels, np.full((3, 4), 0.5), ["a", "b", "c"]
    )
    axes = figure.get_axes()
    assert len(axes) == 3 * 5
    colours = [axis.patches[0].get_edgecolor()[:3] for i, axis in enumerate(axes) if i % 5]
    right = [tuple(np.round(c, 3)) for c in colours].count((0.102, 0.596, 0.314))
    assert right == int((found_labels == np.array([[0], [1], [2]])).sum())  # 9 of 12
    projection = projection_figure(rng.normal(size=(30, 6)), np.arange(30) % 3, ["a", "b", "c"])
    assert len(projection.get_axes()[0].collections) == 3  # one scatter per class
