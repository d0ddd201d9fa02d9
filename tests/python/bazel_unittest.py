"""Runs a unittest module under `bazel test` and reports its cases to Bazel.

Bazel reads per-case results from the JUnit XML file named by XML_OUTPUT_FILE;
without it a Python target would count as a single test.
"""
import os
import sys
import unittest
from xml.sax.saxutils import quoteattr


class _Recorder(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = []

    def addSuccess(self, test):
        super().addSuccess(test)
        self.cases.append((test.id(), None))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.cases.append((test.id(), self._exc_info_to_string(err, test)))

    def addError(self, test, err):
        super().addError(test, err)
        self.cases.append((test.id(), self._exc_info_to_string(err, test)))


def _write_junit(path, suite_name, result):
    failed = sum(1 for _, err in result.cases if err)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites tests="{len(result.cases)}" failures="{failed}" errors="0">',
        f'<testsuite name={quoteattr(suite_name)} tests="{len(result.cases)}" failures="{failed}" errors="0">',
    ]
    for case_id, err in result.cases:
        lines.append(f"<testcase name={quoteattr(case_id)}>")
        if err:
            lines.append(f"<failure message={quoteattr(err.splitlines()[-1])}>{quoteattr(err)[1:-1]}</failure>")
        lines.append("</testcase>")
    lines += ["</testsuite>", "</testsuites>"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main(module_name="__main__"):
    program = unittest.main(
        module=module_name, exit=False, testRunner=unittest.TextTestRunner(resultclass=_Recorder, verbosity=2)
    )
    result = program.result
    if os.environ.get("XML_OUTPUT_FILE"):
        _write_junit(os.environ["XML_OUTPUT_FILE"], os.path.basename(sys.argv[0]), result)
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
