"""``videoshift finetune``: a folder of labelled videos and a starting point in, a weights package out.

:mod:`.data` screens and splits the videos, :mod:`.defaults` holds the fine-tuning recipe of each model family,
:mod:`.start` turns the starting weights into a training config's model, :mod:`.run` trains it with the engine's
:class:`~videoshift.engine.train.Trainer` and writes the package, :mod:`.card` its model card.
"""
