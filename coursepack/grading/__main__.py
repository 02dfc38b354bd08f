"""``python -m coursepack.grading FOLDER``: grade every submission in FOLDER."""
from coursepack.grading.grader import main

if __name__ == "__main__":
    raise SystemExit(main())
