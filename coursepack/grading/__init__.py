"""Graded exercises: the learner edition, the sandboxed batch grader and its gradebook and feedback."""
