"""The baselines a practitioner would write instead of convseq, for the benches.

One module per task, each fitting and scoring a scikit-learn, statsmodels or
CRF model on the same splits the task's bench gives convseq's default. They
read `data` only: nothing here is part of a model a user trains.
"""
