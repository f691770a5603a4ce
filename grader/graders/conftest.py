"""Lets an instructor run one grader against one submission with plain pytest:

    pytest grader/graders/test_a00_warmup.py --submission examples/a00_warmup/bob.py
"""
pytest_plugins = ["grader.plugin"]
