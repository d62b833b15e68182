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
