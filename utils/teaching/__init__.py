"""Teaching helpers used by the notebooks: quizzes, widgets and graders.

Kept deliberately light: import the submodule you need, e.g.
``from utils.teaching.quiz import Quiz``.
"""
