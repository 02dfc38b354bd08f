"""``python -m coursepack.grading FOLDER``: grade every submission in FOLDER."""
from coursepack.grading.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
