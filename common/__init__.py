"""The lowest floor: pure-Python helpers shared by `data`, `models` and `pipelines`.

Nothing here imports TensorFlow, Keras, NumPy or the other packages of the
house, so any module may import from here without pulling them in.
"""
