"""Graded exercises: the exercise-set model, the learner edition, the sandboxed grader, its reports and command line."""
