"""A staged folder takes the place of the old one whole."""

from common.folders import swap_in


def test_a_staged_folder_replaces_the_old_one_and_leaves_nothing_behind(tmp_path):
    target, staging = tmp_path / "gallery", tmp_path / ".gallery-new"
    staging.mkdir()
    (staging / "a.txt").write_text("first")
    swap_in(staging, target)  # nothing there before
    assert (target / "a.txt").read_text() == "first" and not staging.exists()
    staging.mkdir()
    (staging / "b.txt").write_text("second")
    swap_in(staging, target)
    assert [p.name for p in target.iterdir()] == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gallery"]


def test_a_leftover_of_an_interrupted_swap_does_not_block_the_next(tmp_path):
    target, staging = tmp_path / "index", tmp_path / ".index-new"
    (tmp_path / ".index.old").mkdir()
    (tmp_path / ".index.old" / "stale.npy").write_text("old")
    target.mkdir()
    staging.mkdir()
    (staging / "ids.npy").write_text("new")
    swap_in(staging, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]
    assert (target / "ids.npy").read_text() == "new"
