"""Assist: similar requests, articles and the next step, from a local engine (issue 19).

:mod:`.encoders` the engines, :mod:`.vectors` the vectors the worker keeps beside their rows,
:mod:`.lexical` the full-text ranking, :mod:`.service` what a reader may be shown
(``spoc.assist``), :mod:`.suggestions` types, past answers and the console's box
(``spoc.suggestions``), :mod:`.evaluation` the labelled set's figures.
"""
