"""``videoshift demo``: a local web page to try a model on one's own clip (the ``[demo]`` extra, Gradio).

- :mod:`videoshift.demo.recognise`: the model choices, the upload checks and one recognition (no Gradio).
- :mod:`videoshift.demo.app`: the Gradio page around it.
- :mod:`videoshift.demo.cli`: the ``videoshift demo`` command.
"""
